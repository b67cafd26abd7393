"""How connections are opened: the network backends under httpx.

httpx leaves opening a TCP connection to httpcore's network backend; these
backends take that job so that every connection is checked where it is made:

- :class:`DirectBackend` resolves the name itself, classifies every address
  it resolves to (``crawler.zones``) and connects only to an address no more
  private than its zone limit. The address checked is the address connected
  to, so a name that resolves to a public address first and to a private one
  later (DNS rebinding) cannot get through.
- :class:`SocksBackend` speaks SOCKS5 to Tor itself (``crawler.net.socks``): the
  host name is sent as a name, never resolved locally; the proxy connection
  and the handshake run under one timeout (``timeouts.onion_connect``), and
  every SOCKS reply code becomes its own error kind.

TLS is left to httpcore, which starts it on the returned stream with the
URL's host name (SNI and certificate check), even when the TCP connection
went to an IP address or through the proxy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable

import anyio
import httpcore
import httpx

from crawler.errors import FetchError, detail, fetch_error
from crawler.net import socks
from crawler.net.tor import Route
from crawler.zones import Zone, Zones

Resolver = Callable[[str, int], Awaitable[list[str]]]
_KEEPALIVE_SECONDS = 5.0  # httpx's default


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, by the system's resolver, in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _TcpBackend(httpcore.AsyncNetworkBackend):
    """What both backends share: TCP only (the crawler opens no Unix socket), and anyio's sleep."""

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("Unix sockets are not used")

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class DirectBackend(_TcpBackend):
    """Direct connections to addresses no more private than ``limit`` (None: any)."""

    def __init__(self, zones: Zones, limit: Zone | None, resolver: Resolver = system_resolver) -> None:
        self._zones = zones
        self._limit = limit
        self._resolve = resolver
        self._tcp = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self._addresses(host, port)
                allowed = [address for address in addresses if self._allows(address)]
                if not allowed:
                    raise self._blocked(host, addresses[0])
                return await self._first_connecting(allowed, port, local_address, socket_options)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection to {host} within {timeout:g} s") from None

    async def _addresses(self, host: str, port: int) -> list[str]:
        bare = host.strip("[]")
        try:
            return [str(ipaddress.ip_address(bare))]
        except ValueError:
            pass
        try:
            addresses = await self._resolve(bare, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}: no address")
        return addresses

    def _allows(self, address: str) -> bool:
        return self._limit is None or self._zones.of(address) <= self._limit

    def _blocked(self, host: str, address: str) -> FetchError:
        zone = self._zones.of(address)
        limit = self._limit.label if self._limit is not None else "any"
        where = host if host.strip("[]") == address else f"{host} ({address})"
        return fetch_error(
            "blocked_address",
            f"refused to connect to {where}: a {zone.label} address, more private than the {limit} "
            "address the URL was found on or redirected from (safety.allow_private_targets allows it)",
        )

    async def _first_connecting(
        self, addresses: list[str], port: int, local_address: str | None, options: Iterable[httpcore.SOCKET_OPTION] | None
    ) -> httpcore.AsyncNetworkStream:
        """A connection to the first of ``addresses`` that accepts one."""
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._tcp.connect_tcp(address, port, None, local_address, options)
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure


class SocksBackend(_TcpBackend):
    """Connections through the SOCKS5 proxy of ``route``, with its credentials."""

    def __init__(self, route: Route) -> None:
        assert route.proxy is not None
        self._route = route
        self._proxy = route.proxy
        host, _, port = route.proxy.rpartition(":")
        self._proxy_host, self._proxy_port = host.strip("[]"), int(port)
        self._tcp = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream: httpcore.AsyncNetworkStream | None = None
        try:
            with anyio.fail_after(timeout):  # one budget for the proxy connection and the handshake
                stream = await self._tcp.connect_tcp(self._proxy_host, self._proxy_port, None, local_address, socket_options)
                await self._handshake(stream, host, port)
                return stream
        except BaseException as exc:
            if stream is not None:
                await stream.aclose()
            if isinstance(exc, (TimeoutError, httpcore.NetworkError, socks.SocksProtocolError, ValueError)):
                raise self._failure(exc, host, timeout, connected=stream is not None) from None
            raise  # a reply code's error (already ours), or a cancellation

    def _failure(self, exc: BaseException, host: str, timeout: float | None, connected: bool) -> FetchError:
        where = f"Tor SOCKS proxy at {self._proxy}"
        if isinstance(exc, ValueError):  # a name SOCKS cannot carry (over 255 bytes)
            return FetchError("bad_url", f"cannot fetch this URL through Tor: {exc}")
        if not connected:
            why = f"no connection within {timeout:g} s" if isinstance(exc, TimeoutError) else detail(exc)
            return fetch_error("proxy", f"{where} is not reachable ({why})")
        if isinstance(exc, TimeoutError):
            return fetch_error(
                "timeout",
                f"Tor did not connect to {host} within {timeout:g} s (timeouts.onion_connect): is Tor connected to the network?",
            )
        return fetch_error("proxy", f"{where} did not answer as a SOCKS5 proxy ({detail(exc)})")

    async def _handshake(self, stream: httpcore.AsyncNetworkStream, host: str, port: int) -> None:
        route = self._route
        authenticate = route.username is not None and route.password is not None
        await stream.write(socks.greeting(authenticate))
        socks.check_method(await _read_exactly(stream, 2), authenticate)
        if route.username is not None and route.password is not None:
            await stream.write(socks.auth_request(route.username, route.password))
            socks.check_auth(await _read_exactly(stream, 2))
        await stream.write(socks.connect_request(host, port))
        code, remaining = socks.reply_head(await _read_exactly(stream, 5))
        if code != socks.SUCCEEDED:
            reply = socks.reply_for(code)
            raise fetch_error(reply.kind, f"{reply.message} ({host}: SOCKS reply 0x{code:02X} from {self._proxy})")
        await _read_exactly(stream, remaining)  # the bound address: Tor sends 0.0.0.0:0


async def _read_exactly(stream: httpcore.AsyncNetworkStream, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = await stream.read(count - len(data))
        if not chunk:
            raise socks.SocksProtocolError(f"the connection closed after {len(data)} of {count} bytes")
        data += chunk
    return data


def transport(backend: httpcore.AsyncNetworkBackend, tls: ssl.SSLContext, size: int) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections ``backend`` opens.

    httpx takes no network backend, so its pool is replaced by one built
    with the same options; the real-server tests (Tor routing, zones, faults)
    fail if a new httpx stops using it.
    """
    result = httpx.AsyncHTTPTransport(verify=tls, limits=httpx.Limits(max_connections=size, max_keepalive_connections=size))
    result._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls,
        max_connections=size,
        max_keepalive_connections=size,
        keepalive_expiry=_KEEPALIVE_SECONDS,
        network_backend=backend,
    )
    return result
