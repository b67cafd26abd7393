"""What this test rig allows an httpx client: Range GETs that parse nothing.

The benchmark's ceiling from the client side: the same requests as the
crawler's image requests (``Range: bytes=0-10239``, connections kept in
pools of 4 as the crawler keeps them), over the same delaying proxy, with no
HTML, EXIF or hashing. In PROCESSES processes (forked), each with its share
of CONCURRENCY. The gap between this and the latency bound is the rig's and
httpx's; the gap between this and the crawler is the crawler's own work.

Usage: ``python bench/bare_httpx.py URL_FILE CONCURRENCY PROCESSES``
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys

import httpx

PREFIX = 10240
POOL = 4  # connections per client, as crawler.net.slots.POOL_SIZE keeps them


async def fetch_all(urls: list[str], concurrency: int) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    clients = [httpx.AsyncClient(limits=httpx.Limits(max_connections=POOL)) for _ in range(-(-concurrency // POOL))]

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            url = queue.get_nowait()
            async with client.stream("GET", url, headers={"Range": f"bytes=0-{PREFIX - 1}"}) as response:
                await response.aread()

    await asyncio.gather(*(worker(clients[slot // POOL]) for slot in range(concurrency)))
    await asyncio.gather(*(client.aclose() for client in clients))


def run(urls: list[str], concurrency: int) -> None:
    asyncio.run(fetch_all(urls, concurrency))


def main() -> None:
    urls = open(sys.argv[1]).read().split()
    concurrency, processes = int(sys.argv[2]), int(sys.argv[3])
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=run, args=(urls[index::processes], concurrency // processes))
        for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    sys.exit(max(abs(worker.exitcode or 0) for worker in workers))


if __name__ == "__main__":
    main()
