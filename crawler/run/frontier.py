"""Listed URLs in per-host queues: a URL waits in its host's queue, not in a worker.

The crawl asks :meth:`Frontier.take` for the next listed URL and gets one
only when that URL's host has room: at most ``per_host`` listed URLs of one
host are in progress (``per_unknown_host`` until the host has answered: just
enough to learn in one timeout whether it is there), at most ``live`` in all
on hosts that have answered, and at most ``probing`` on hosts not heard from
yet. So a slow or dead host
holds its own few places and never a place another host's work needs, and
hosts take turns (round robin). URLs of a host the fetcher has given up on
(unreachable) are handed out at once: they fail without a request.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.net.hosts import HostState

Budget = str  # "live", "probing" or "free"


@dataclass(frozen=True)
class Lease:
    """One listed URL handed out; give it back with :meth:`Frontier.release`."""

    url: str
    host: str
    budget: Budget


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class Frontier:
    def __init__(
        self,
        urls: Iterable[str],
        per_host: int,
        live: int,
        probing: int,
        state_of: Callable[[str], HostState],
        per_unknown_host: int | None = None,
    ) -> None:
        self._per_host = per_host
        self._per_unknown_host = min(per_host, per_unknown_host or per_host)
        self._limits = {"live": live, "probing": probing}
        self._used = {"live": 0, "probing": 0}
        self._state_of = state_of
        self._queues: dict[str, deque[str]] = {}
        for url in urls:
            self._queues.setdefault(host_of(url), deque()).append(url)
        self._active: dict[str, int] = dict.fromkeys(self._queues, 0)
        self._turns: deque[str] = deque(self._queues)  # hosts with URLs waiting, in turn order
        self._changed = asyncio.Event()

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    async def take(self) -> Lease | None:
        """The next URL whose host has room; waits for room; None when no URL is left to hand out."""
        while self._turns:
            lease = self._next()
            if lease is not None:
                return lease
            self._changed.clear()
            await self._changed.wait()
        return None

    def release(self, lease: Lease) -> None:
        self._active[lease.host] -= 1
        if lease.budget != "free":
            self._used[lease.budget] -= 1
        self._changed.set()

    def _next(self) -> Lease | None:
        """One pass over the hosts in turn order: the first that has room gets its next URL handed out."""
        for _ in range(len(self._turns)):
            host = self._turns[0]
            self._turns.rotate(-1)
            budget = self._budget(host)
            if budget is None:
                continue
            url = self._queues[host].popleft()
            if not self._queues[host]:
                self._turns.pop()  # the rotation put it last
            self._active[host] += 1
            if budget != "free":
                self._used[budget] += 1
            return Lease(url, host, budget)
        return None

    def _budget(self, host: str) -> Budget | None:
        """Which budget a URL of ``host`` would use now; None when the host or that budget is full."""
        state = self._state_of(host)
        if state == "unreachable":
            return "free"
        if self._active[host] >= (self._per_host if state == "alive" else self._per_unknown_host):
            return None
        budget = "live" if state == "alive" else "probing"
        return budget if self._used[budget] < self._limits[budget] else None
