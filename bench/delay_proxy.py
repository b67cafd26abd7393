"""A TCP proxy on loopback that adds a fixed round-trip time, for benchmarks.

This machine's kernel has no ``netem`` qdisc, so the network delay is made
here: a new connection is held for one round trip before it reaches the
server (the TCP handshake), and every chunk the client sends is forwarded one
round trip later (request -> response). Data from the server passes at once.
Forwarding is scheduled with ``call_later``, not awaited, so many
connections and pipelined chunks are delayed in parallel and in order.

Run alone: ``python bench/delay_proxy.py LISTEN_PORT UPSTREAM_PORT RTT_MS [ADDRESS,ADDRESS...]``
(loopback addresses to listen on; default 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import sys


class _Upstream(asyncio.Protocol):
    """Server -> client: passes bytes through at once."""

    def __init__(self, client: asyncio.Transport) -> None:
        self.client = client

    def data_received(self, data: bytes) -> None:
        self.client.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.close()


class _Client(asyncio.Protocol):
    """Client -> server: each chunk forwarded one round trip later."""

    def __init__(self, upstream_port: int, rtt: float) -> None:
        self.upstream_port = upstream_port
        self.rtt = rtt
        self.transport: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.pending: list[bytes] = []
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.pause_reading()
        asyncio.get_running_loop().call_later(self.rtt, lambda: asyncio.ensure_future(self._connect()))

    async def _connect(self) -> None:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        try:
            upstream, _ = await loop.create_connection(
                lambda: _Upstream(self.transport), "127.0.0.1", self.upstream_port  # type: ignore[arg-type]
            )
        except OSError:
            self.transport.close()
            return
        self.upstream = upstream  # type: ignore[assignment]
        if self.closed:
            upstream.close()
            return
        self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        asyncio.get_running_loop().call_later(self.rtt, self._forward, data)

    def _forward(self, data: bytes) -> None:
        if self.upstream is not None and not self.upstream.is_closing():
            self.upstream.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.upstream is not None:
            asyncio.get_running_loop().call_later(self.rtt, self.upstream.close)


async def serve(listen_port: int, upstream_port: int, rtt: float, addresses: tuple[str, ...] = ("127.0.0.1",)) -> None:
    """Proxy ``listen_port`` on each loopback address in ``addresses`` (several: several hosts to a crawler)."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _Client(upstream_port, rtt), list(addresses), listen_port, backlog=4096
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    listen, upstream, rtt_ms = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    listen_on = tuple(sys.argv[4].split(",")) if len(sys.argv) > 4 else ("127.0.0.1",)
    asyncio.run(serve(listen, upstream, rtt_ms / 1000, listen_on))
