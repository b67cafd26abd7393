"""How many requests may be in flight: overall, per host, and to hosts not heard from yet.

The overall limit is a queue of tokens, each naming the connection pool
(shard) its holder uses: :data:`POOL_SIZE` tokens per pool, so no pool has
more requests in flight than connections (:mod:`crawler.net.clients`).
Requests to hosts that have not answered yet take probe tokens instead of
overall slots, so that dead hosts cannot hold the overall limit; the probes'
shard numbers go on after the slots' pools.

The per-host limit is a seam of its own, the small interface
:class:`HostSlots`: by default this process's semaphores (:class:`LocalSlots`),
which is all a crawl on one machine needs; workers of a queue crawl on many
machines pass in slots shared through the database instead
(``crawler.queue.slots``), so that ``limits.per_host`` holds for the whole
fleet; the fetcher knows only this small interface.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

POOL_SIZE = 4  # connections per direct client, and overall tokens per pool


class HostSlots(Protocol):
    def hold(self, host: str) -> AbstractAsyncContextManager[object]:
        """Wait for one of ``host``'s slots and hold it for the block."""
        ...


class LocalSlots:
    """``per_host`` slots per host, within this process."""

    def __init__(self, per_host: int) -> None:
        self._semaphores: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_host))

    def hold(self, host: str) -> asyncio.Semaphore:
        return self._semaphores[host]


class Slots:
    """The overall limit (``concurrency`` tokens) and the probes' (``probing`` tokens)."""

    def __init__(self, concurrency: int, probing: int) -> None:
        self._slots: asyncio.Queue[int] = asyncio.Queue()
        for token in range(concurrency):
            self._slots.put_nowait(token // POOL_SIZE)
        self._probes: asyncio.Queue[int] = asyncio.Queue()
        first = concurrency // POOL_SIZE + 1
        for token in range(probing):
            self._probes.put_nowait(first + token // POOL_SIZE)

    @asynccontextmanager
    async def token(self, probe: bool) -> AsyncIterator[int]:
        """Hold an overall slot, or a probe token for a host not heard from yet; yields its pool number."""
        tokens = self._probes if probe else self._slots
        shard = await tokens.get()
        try:
            yield shard
        finally:
            tokens.put_nowait(shard)
