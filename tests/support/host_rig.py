"""Many hosts on loopback, live and dead, for the scheduling benchmark.

Each host is its own loopback address (127.77.x.y) on one port, so the
crawler sees distinct host names. A *live* host answers every GET after a
fixed delay with the requested range of one JPEG (206 and Content-Range,
keep-alive); a *hanging* host accepts connections and never answers; a
*refusing* host has no listener, so the kernel refuses the connection.

Run alone: ``python -m tests.support.host_rig PORT DELAY_MS LIVE HANG REFUSE``; it
prints one JSON line with the host addresses of each kind and serves until
killed.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from tests.support.servers import free_port


@dataclass(frozen=True)
class Rig:
    port: int
    live: list[str]
    hang: list[str]
    refuse: list[str]

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"


_RANGE = re.compile(rb"range:\s*bytes=(\d+)-(\d*)", re.IGNORECASE)


def address(index: int) -> str:
    return f"127.77.{index // 250}.{index % 250 + 1}"


def jpeg(seed: int = 7, size: tuple[int, int] = (320, 240)) -> bytes:
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


async def _live(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes, delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(delay)
            match = _RANGE.search(head)
            start = int(match.group(1)) if match else 0
            end = min(int(match.group(2)) if match and match.group(2) else len(body) - 1, len(body) - 1)
            part = body[start : end + 1]
            status = "206 Partial Content" if match else "200 OK"
            extra = f"Content-Range: bytes {start}-{end}/{len(body)}\r\n" if match else ""
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(part)}\r\n{extra}"
                f'ETag: "rig"\r\n\r\n'.encode() + part
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.read()  # until the client gives up
    finally:
        writer.close()


async def serve(port: int, delay_ms: float, live: int, hang: int, refuse: int) -> None:
    body = jpeg()
    servers = []
    for index in range(live):
        servers.append(await asyncio.start_server(
            lambda r, w: _live(r, w, body, delay_ms / 1000), address(index), port, backlog=1024))
    for index in range(live, live + hang):
        servers.append(await asyncio.start_server(_hang, address(index), port, backlog=1024))
    kinds = {
        "live": [address(i) for i in range(live)],
        "hang": [address(i) for i in range(live, live + hang)],
        "refuse": [address(i) for i in range(live + hang, live + hang + refuse)],
        "image_bytes": len(body),
    }
    print(json.dumps(kinds), flush=True)
    await asyncio.Event().wait()


@contextmanager
def running(delay_ms: float, live: int, hang: int, refuse: int, port: int | None = None) -> Iterator[Rig]:
    """The rig in a child process for the block: its port and the addresses of each kind."""
    port = port or free_port()
    command = [sys.executable, "-m", "tests.support.host_rig", str(port), str(delay_ms), str(live), str(hang), str(refuse)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert child.stdout is not None
        kinds = json.loads(child.stdout.readline())
        yield Rig(port, kinds["live"], kinds["hang"], kinds["refuse"])
    finally:
        child.kill()
        child.wait()


if __name__ == "__main__":
    port, delay, live_count, hang_count, refuse_count = sys.argv[1:6]
    asyncio.run(serve(int(port), float(delay), int(live_count), int(hang_count), int(refuse_count)))
