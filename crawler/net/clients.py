"""The httpx clients: one per route, zone limit, certificate check and connection pool.

Clients are keyed by route, zone limit and certificate check, so a pooled
connection is never reused under another limit. httpcore's pool scans all
its connections for every request, so its CPU cost per request grows with
the pool. Direct requests therefore use pools of
:data:`~crawler.net.slots.POOL_SIZE` connections, one per group of overall
slots (:mod:`crawler.net.slots`); a proxied (onion) route has a client of its
own, limited by ``per_host``, under which the zone limit does not apply. The
price of the zone key: a public page's connection does not serve the images
found on it (they may only reach public addresses).

Connections are opened by :mod:`crawler.net.connect`; redirects are not
followed by httpx but by :mod:`crawler.net.redirects`, hop by hop.
"""

from __future__ import annotations

import asyncio
import ssl

import httpx

from crawler.net import connect
from crawler.net.slots import POOL_SIZE
from crawler.net.tor import Route, is_onion
from crawler.settings import Settings
from crawler.zones import Zone, Zones


class Clients:
    """The clients of one fetcher, made on first use; ``aclose`` closes them all."""

    def __init__(self, settings: Settings, zones: Zones, transport: httpx.AsyncBaseTransport | None) -> None:
        self._settings = settings
        self._zones = zones
        self._transport = transport  # tests inject one; None means real sockets
        self._clients: dict[tuple[Route, Zone | None, bool, int], httpx.AsyncClient] = {}
        self._tls = httpx.create_ssl_context()  # one for all clients: each costs ~20 ms to build
        self._unverified: ssl.SSLContext | None = None  # for onion services, when safety.verify_onion_tls is off

    def verifies(self, host: str) -> bool:
        """Whether a certificate from ``host`` must verify: always, unless it is an onion service and the user said not."""
        return self._settings.safety.verify_onion_tls or not is_onion(host)

    def client(self, route: Route, limit: Zone | None, host: str, shard: int) -> httpx.AsyncClient:
        """The client for a hop to ``host`` on ``route`` under ``limit``, holding a slot of pool ``shard``."""
        proxied = route.proxy is not None
        verify = self.verifies(host)
        # No limit and the loopback limit allow the same (loopback is the most private zone):
        # one client, so a loopback page's connection serves its images too.
        limit = None if proxied or limit == Zone.LOOPBACK else limit
        key = (route, limit, verify, 0 if proxied else shard)
        if key not in self._clients:
            self._clients[key] = self._new_client(route, limit, verify)
        return self._clients[key]

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))
        self._clients.clear()

    def _new_client(self, route: Route, limit: Zone | None, verify: bool) -> httpx.AsyncClient:
        s = self._settings
        onion = route.proxy is not None
        timeout = httpx.Timeout(
            connect=s.timeouts.onion_connect if onion else s.timeouts.connect,
            read=s.timeouts.onion_read if onion else s.timeouts.read,
            write=s.timeouts.onion_read if onion else s.timeouts.read,
            pool=None,  # waiting for a connection is bounded by the slots
        )
        size = s.limits.per_host if onion else POOL_SIZE
        return httpx.AsyncClient(
            headers={"User-Agent": s.http.user_agent},
            timeout=timeout,
            follow_redirects=False,  # crawler.net.redirects follows them, checking each hop
            trust_env=False,  # no proxy from the environment: routes are decided here
            transport=self._transport or self._transport_for(route, limit, verify, size),
        )

    def _transport_for(self, route: Route, limit: Zone | None, verify: bool, size: int) -> httpx.AsyncHTTPTransport:
        backend: connect.DirectBackend | connect.SocksBackend
        if route.proxy is not None:
            backend = connect.SocksBackend(route)
        else:
            backend = connect.DirectBackend(self._zones, limit)
        return connect.transport(backend, self._tls if verify else self._unverified_tls(), size)

    def _unverified_tls(self) -> ssl.SSLContext:
        if self._unverified is None:
            self._unverified = httpx.create_ssl_context(verify=False)
        return self._unverified
