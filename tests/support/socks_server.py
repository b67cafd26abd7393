"""A real SOCKS5 server on loopback for the tests: records what it is asked, forwards to one upstream.

It speaks RFC 1928 (SOCKS5, CONNECT only) with RFC 1929 username/password
authentication, the subset Tor's SocksPort speaks to httpx. Every CONNECT is
recorded: the address type (a domain name arrives as ATYP 0x03; an address
resolved by the client as 0x01 or 0x04), host, port and the credentials of
its connection. The tunnel goes to the port ``routes`` names for the host, or
else to one upstream on 127.0.0.1 (``.onion`` names resolve nowhere), so an
nginx from ``tests/support/servers.py`` can play every hidden service and a second
server a clearnet host (``tracker.test``) known only to this proxy;
``tunnels`` counts the tunnels opened per host.

For failure tests other modes misbehave on purpose: ``"refuse"`` answers
every CONNECT with the SOCKS error ``reply`` (host unreachable by default),
``"stall"`` accepts connections and never answers, and ``"http"`` answers
like an HTTP server configured as the proxy by mistake. It runs an asyncio
loop in a background thread; use it as a context manager, or ``start()`` /
``stop()``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import pytest

ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 0x01, 0x03, 0x04
SUCCEEDED, HOST_UNREACHABLE, CONNECTION_REFUSED, COMMAND_NOT_SUPPORTED = 0x00, 0x04, 0x05, 0x07
_NO_AUTH, _USER_PASS, _NO_ACCEPTABLE = 0x00, 0x02, 0xFF
_CONNECT = 0x01

Mode = Literal["forward", "refuse", "stall", "http"]


class _HangUp(Exception):
    """The client asked for something this server does not do; its connection is closed."""


@dataclass(frozen=True)
class ConnectRequest:
    """One CONNECT as the client sent it."""

    atyp: int  # ATYP_DOMAIN, ATYP_IPV4 or ATYP_IPV6
    host: str
    port: int
    username: str | None  # None when the client chose no authentication
    password: str | None


class SocksServer:
    """A SOCKS5 server on 127.0.0.1 that tunnels every CONNECT to ``127.0.0.1:upstream_port``."""

    def __init__(
        self,
        upstream_port: int | None = None,
        mode: Mode = "forward",
        reply: int = HOST_UNREACHABLE,
        routes: dict[str, int] | None = None,
    ) -> None:
        self.upstream_port = upstream_port
        self.mode = mode
        self.reply = reply  # the error code of mode "refuse"
        self.routes = routes or {}  # host -> port on 127.0.0.1 its tunnels go to
        self.port = 0
        self._requests: list[ConnectRequest] = []
        self._tunnels: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[ConnectRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def tunnels(self) -> Counter[str]:
        """Host -> tunnels opened to its upstream (CONNECTs that succeeded)."""
        with self._lock:
            return Counter(self._tunnels)

    def start(self) -> SocksServer:
        ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(ready),), daemon=True)
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("the SOCKS server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> SocksServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- the server loop ------------------------------------------------------

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        handlers: set[asyncio.Task[None]] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                await self._client(reader, writer)
            except (OSError, asyncio.IncompleteReadError, ValueError, _HangUp, asyncio.CancelledError):
                pass  # a client that hangs up or speaks nonsense loses its connection; stop() cancels
            finally:
                writer.close()
                handlers.discard(task)

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.port = int(server.sockets[0].getsockname()[1])
        ready.set()
        async with server:
            await self._stopping.wait()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "stall":
            await asyncio.Event().wait()  # until stop() cancels this handler
        if self.mode == "http":
            await reader.read(512)
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        credentials = await _negotiate(reader, writer)
        request = await _read_connect(reader, writer, credentials)
        with self._lock:
            self._requests.append(request)
        if self.mode == "refuse":
            writer.write(_reply(self.reply))
            return
        await self._tunnel(reader, writer, request.host)

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        port = self.routes.get(host, self.upstream_port)
        try:
            if port is None:
                raise ConnectionRefusedError("no upstream configured")
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.write(_reply(CONNECTION_REFUSED))
            return
        with self._lock:
            self._tunnels[host] += 1
        writer.write(_reply(SUCCEEDED))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _negotiate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[str, str] | None:
    """Method selection (and RFC 1929 sub-negotiation): the credentials, or None without authentication."""
    version, count = await reader.readexactly(2)
    methods = await reader.readexactly(count)
    if version != 5:
        raise _HangUp(f"SOCKS version {version}")
    if _USER_PASS in methods:
        writer.write(bytes([5, _USER_PASS]))
        return await _authenticate(reader, writer)
    if _NO_AUTH in methods:
        writer.write(bytes([5, _NO_AUTH]))
        return None
    writer.write(bytes([5, _NO_ACCEPTABLE]))
    raise _HangUp("no acceptable authentication method")


async def _authenticate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[str, str]:
    """RFC 1929: VER ULEN UNAME PLEN PASSWD; every username/password is accepted, as Tor does."""
    _version, length = await reader.readexactly(2)
    username = (await reader.readexactly(length)).decode()
    (length,) = await reader.readexactly(1)
    password = (await reader.readexactly(length)).decode()
    writer.write(bytes([1, 0]))
    return username, password


async def _read_connect(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, credentials: tuple[str, str] | None
) -> ConnectRequest:
    """VER CMD RSV ATYP DST.ADDR DST.PORT; anything but CONNECT is refused."""
    _version, command, _reserved, atyp = await reader.readexactly(4)
    if atyp == ATYP_IPV4:
        host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
    elif atyp == ATYP_IPV6:
        host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
    elif atyp == ATYP_DOMAIN:
        (length,) = await reader.readexactly(1)
        host = (await reader.readexactly(length)).decode()
    else:
        raise _HangUp(f"unknown address type {atyp}")
    port = int.from_bytes(await reader.readexactly(2), "big")
    if command != _CONNECT:
        writer.write(_reply(COMMAND_NOT_SUPPORTED))
        raise _HangUp(f"command {command}")
    username, password = credentials if credentials is not None else (None, None)
    return ConnectRequest(atyp=atyp, host=host, port=port, username=username, password=password)


def _reply(code: int) -> bytes:
    """VER REP RSV ATYP BND.ADDR BND.PORT, with a bound address of 0.0.0.0:0."""
    return bytes([5, code, 0, ATYP_IPV4, 0, 0, 0, 0, 0, 0])


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


def onion(seed: str) -> str:
    """A name shaped like a v3 onion address (56 base32 characters); it resolves nowhere."""
    key = hashlib.sha256(seed.encode()).digest() + b"\x00\x00\x03"
    return base64.b32encode(key).decode().lower() + ".onion"


# -- pytest fixture (every test has it: tests/conftest.py names this module in pytest_plugins) --

SocksFactory = Callable[..., SocksServer]


@pytest.fixture
def socks_servers() -> Iterator[SocksFactory]:
    """Start SOCKS5 servers: ``socks_servers(upstream_port, mode=..., reply=...)``; all stopped at the end."""
    started: list[SocksServer] = []

    def start(upstream_port: int | None = None, mode: Mode = "forward", **options: Any) -> SocksServer:
        server = SocksServer(upstream_port, mode, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
