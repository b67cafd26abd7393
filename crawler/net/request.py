"""One request (one hop) under the limits and its route's total timeout, with httpx's errors mapped to ours.

A request waits for its host's slot first (:class:`~crawler.net.slots.HostSlots`),
then for an overall slot, or a probe token while its host has not answered
yet (:mod:`crawler.net.slots`), and runs on the client of its route and pool
(:mod:`crawler.net.clients`). A host given up on fails at once; a failure
before any answer counts towards giving up on the host
(:class:`~crawler.net.hosts.HostHealth`): an answer that is slow or cut is
the resource's problem, not a sign the host is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx

from crawler.errors import FetchError, TransientError
from crawler.net.clients import Clients
from crawler.net.hosts import HostHealth
from crawler.net.http_errors import map_error
from crawler.net.slots import HostSlots, Slots
from crawler.net.tor import Route
from crawler.settings import TimeoutSettings
from crawler.zones import Zone


def host_of(url: str) -> str:
    """The host whose limits and health a request to ``url`` counts against."""
    return (urlsplit(url).hostname or "").lower()


class Requests:
    """Opens one request at a time under the shared limits; ``hosts`` is what it learned of each host."""

    def __init__(self, clients: Clients, slots: Slots, host_slots: HostSlots, hosts: HostHealth,
                 timeouts: TimeoutSettings) -> None:
        self._clients = clients
        self._slots = slots
        self._host_slots = host_slots
        self.hosts = hosts
        self._timeouts = timeouts

    @asynccontextmanager
    async def open(self, url: str, headers: dict[str, str], route: Route, limit: Zone | None) -> AsyncIterator[httpx.Response]:
        """GET ``url`` on ``route`` under the zone ``limit``; the response streams, its body unread."""
        host = host_of(url)
        total = self._timeouts.total if route.proxy is None else self._timeouts.onion_total
        self._check_reachable(host)
        # Per host first: a request waiting for its host must not hold an overall slot.
        async with self._host_slots.hold(host):
            self._check_reachable(host)
            answered = False
            async with self._slots.token(probe=self.hosts.state(host) != "alive") as shard:
                client = self._clients.client(route, limit, host, shard)
                try:
                    async with asyncio.timeout(total):
                        async with client.stream("GET", url, headers=headers) as response:
                            answered = True
                            self.hosts.answered(host)
                            yield response
                except TimeoutError:
                    error: FetchError = TransientError("timeout", f"no complete answer within {total:g} s")
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    error = map_error(exc)
                else:
                    return
                if not answered:
                    self.hosts.failed(host, error.kind, error.message)
                raise error

    def _check_reachable(self, host: str) -> None:
        if self.hosts.state(host) == "unreachable":
            raise FetchError("host_unreachable", self.hosts.why_unreachable(host))
