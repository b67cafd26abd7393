"""Per-host request slots: how many requests one host may have in flight.

The fetcher holds a host's slot around every request to that host. By
default the slots are this process's own (:class:`LocalSlots`, one semaphore
per host), which is all a crawl on one machine needs. Workers of a queue
crawl on many machines pass in slots shared through the database instead
(``crawler.queue.slots``), so that ``limits.per_host`` holds for the whole
fleet; the fetcher knows only this small interface.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import AbstractAsyncContextManager
from typing import Protocol


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
