"""What a claim costs: procrastinate against pgqueuer, no-op jobs, on a PostgreSQL of the bench's own.

The queue's own overhead, apart from any crawling: ``JOBS`` jobs are queued,
then one worker (in this process, asyncio) takes and finishes them all.
Measured: jobs per second, the database's CPU per job (every postgres process,
from /proc) and the worker's CPU per job. procrastinate's jobs carry a lock
each (one of ``LOCKS``), as the crawl's batches do (their host); pgqueuer has
no per-key lock (its concurrency limit is per entrypoint), so its jobs carry
none: the comparison favours it.

Used by ``bench/queue_bench.py``; alone: ``python bench/queue_claims.py [JOBS]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.postgres_server import Postgres  # noqa: E402

LOCKS = 100
CONCURRENCY = 16


def postgres_cpu(server: Postgres) -> float:
    """CPU seconds of the cluster so far: the postmaster, the backends it has reaped, and the live ones."""
    ticks = float(os.sysconf("SC_CLK_TCK"))
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    total = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        elif parent == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


async def _procrastinate(url: str, jobs: int) -> Callable[[], Coroutine[Any, Any, None]]:
    import procrastinate
    from procrastinate.types import JSONDict

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=4))
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        for start in range(0, jobs, 1000):
            for lock in range(LOCKS):
                kwargs: list[JSONDict] = [{"n": n} for n in range(start, min(jobs, start + 1000)) if n % LOCKS == lock]
                if kwargs:
                    await app.configure_task("noop", lock=f"host:{lock}").batch_defer_async(*kwargs)

    @app.task(name="noop")
    async def noop(n: int) -> None:
        del n

    async def drain() -> None:
        # wait=False stops at the first empty fetch, which the locks can cause while jobs are left: again until none is
        async with app.open_async():
            while await _todo(url):
                await app.run_worker_async(concurrency=CONCURRENCY, wait=False, install_signal_handlers=False)

    return drain


async def _pgqueuer(url: str, jobs: int) -> Callable[[], Coroutine[Any, Any, None]]:
    import psycopg
    from pgqueuer import PsycopgDriver, Queries, QueueManager
    from pgqueuer.domain.types import QueueExecutionMode

    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await Queries(PsycopgDriver(conn)).install()
    for start in range(0, jobs, 1000):
        count = min(jobs, start + 1000) - start
        await Queries(PsycopgDriver(conn)).enqueue(["noop"] * count, [None] * count, [0] * count)
    manager = QueueManager(Queries(PsycopgDriver(conn)))

    @manager.entrypoint("noop")
    async def noop(job: Any) -> None:
        del job

    async def drain() -> None:
        await manager.run(mode=QueueExecutionMode.drain, batch_size=CONCURRENCY // 2,
                          max_concurrent_tasks=CONCURRENCY)
        await conn.close()

    return drain


async def _todo(url: str) -> int:
    import psycopg

    async with await psycopg.AsyncConnection.connect(url) as conn:
        row = await (await conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")).fetchone()
    return int(row[0]) if row else 0


LIBRARIES = {"procrastinate": _procrastinate, "pgqueuer": _pgqueuer}


def measure(server: Postgres, library: str, jobs: int) -> dict[str, Any]:
    url = server.database()
    drain = asyncio.run(LIBRARIES[library](url, jobs))
    db_before, cpu_before, start = postgres_cpu(server), _own_cpu(), time.perf_counter()
    asyncio.run(drain())
    wall = time.perf_counter() - start
    db, own = postgres_cpu(server) - db_before, _own_cpu() - cpu_before
    return {"library": library, "jobs": jobs, "seconds": wall, "claims_per_second": jobs / wall,
            "db_cpu_ms_per_claim": 1000 * db / jobs, "worker_cpu_ms_per_claim": 1000 * own / jobs}


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    cluster = Postgres()
    try:
        print(json.dumps([measure(cluster, name, count) for name in LIBRARIES], indent=2))
    finally:
        cluster.stop()
