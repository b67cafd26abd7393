"""``limits.per_host`` across every worker: a host's slots are PostgreSQL advisory locks.

Slot ``i`` of host ``h`` is the session advisory lock ``(key(h), i)``, for
``i`` below ``per_host``. A request to a host holds one of its slots, so
however many workers crawl, and whichever listed page sent them to the host
(a page on host A embeds images on hosts B and C: a lock on A's batch alone
would let two workers hit B at once), no host has more than ``per_host``
requests in flight.

A round trip per request would cost the database dearly, so a worker keeps
the slots it holds while it has requests waiting for that host, handing a
slot from one request to the next without asking the database, and lets go
of a slot only after it has stayed unused for :data:`_LINGER` seconds. A
worker that wants a slot of a host whose slots other workers hold asks
again after a pause that doubles up to :data:`_LONGEST_POLL`; only one
request per host and worker asks at a time.

A worker that dies loses its session, and PostgreSQL frees its slots at once.
If the database restarts, every session's slots are freed: the worker
forgets the slots it held and takes them again for its next requests
(requests already in flight finish; this is the one moment the limit can be
passed, by those).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from crawler.queue.app import host_key
from crawler.queue.connection import Connection, Reconnecting

_LINGER = 0.25  # seconds an unused slot is kept: the next page's images usually want it back
_FIRST_POLL = 0.02
_LONGEST_POLL = 0.5


@dataclass
class _Host:
    host: str
    key: int
    held: set[int] = field(default_factory=set)  # slots this worker holds in the database
    free: list[int] = field(default_factory=list)  # held, with no request on them
    waiting: int = 0  # requests of this worker waiting for a slot
    asking: bool = False  # one of them is asking the database
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    linger: asyncio.TimerHandle | None = None


class FleetSlots:
    """The :class:`crawler.net.slots.HostSlots` of a queue worker."""

    def __init__(self, url: str, per_host: int) -> None:
        self._per_host = per_host
        self._hosts: dict[str, _Host] = {}
        self._generation = 0  # a new database session: slots taken before are gone
        self._conn = Reconnecting(url, on_lost=self._forget)
        self._unlocking: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        await self._conn.open()

    async def close(self) -> None:
        await asyncio.gather(*self._unlocking, return_exceptions=True)
        await self._conn.close()  # the session's locks go with it

    @contextlib.asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        state = self._hosts.setdefault(host, _Host(host, host_key(host)))
        slot, generation = await self._take(state)
        try:
            yield
        finally:
            self._give_back(state, slot, generation)

    async def _take(self, state: _Host) -> tuple[int, int]:
        pause = _FIRST_POLL
        state.waiting += 1
        try:
            while True:
                if state.free:
                    return state.free.pop(), self._generation
                if not state.asking and len(state.held) < self._per_host:
                    slot = await self._ask(state)
                    if slot is not None:
                        return slot, self._generation
                    pause = min(pause * 2, _LONGEST_POLL)
                changed = state.changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), pause)
        finally:
            state.waiting -= 1

    async def _ask(self, state: _Host) -> int | None:
        """One round trip: a free slot of the host, now held by this worker; None when others hold them all.

        The question is shielded: a request cancelled while it asks must not
        leave a slot locked in the database that no one here knows of.
        """
        async def take(conn: Connection) -> int | None:
            cursor = await conn.execute("SELECT crawler_take_host_slot(%s, %s, %s)",
                                        (state.key, self._per_host, sorted(state.held)))
            row = await cursor.fetchone()
            return None if row is None or row[0] is None else int(str(row[0]))

        state.asking = True
        asked = asyncio.ensure_future(self._conn.run(take))
        asked.add_done_callback(lambda done: self._answered(state, done))
        try:
            return await asyncio.shield(asked)
        except asyncio.CancelledError:  # the slot, if it comes, waits for another request, then goes
            asked.add_done_callback(lambda done: self._orphaned(state, done))
            raise

    def _answered(self, state: _Host, asked: asyncio.Future[int | None]) -> None:
        state.asking = False
        slot = _slot_of(asked)
        if slot is not None:
            state.held.add(slot)
        self._wake(state)

    def _orphaned(self, state: _Host, asked: asyncio.Future[int | None]) -> None:
        slot = _slot_of(asked)
        if slot is not None:
            self._give_back(state, slot, self._generation)

    def _give_back(self, state: _Host, slot: int, generation: int) -> None:
        if generation != self._generation:
            return  # taken in a session that is gone, and its lock with it
        state.free.append(slot)
        self._wake(state)
        if state.linger is None:
            state.linger = asyncio.get_running_loop().call_later(_LINGER, self._let_go, state)

    def _let_go(self, state: _Host) -> None:
        """Unlock the host's slots that stayed unused through the linger (while none of ours waits for one)."""
        state.linger = None
        if state.waiting and state.free:
            state.linger = asyncio.get_running_loop().call_later(_LINGER, self._let_go, state)
            return
        unused, state.free = state.free, []
        state.held.difference_update(unused)
        if not state.held and not state.waiting and self._hosts.get(state.host) is state:
            del self._hosts[state.host]
        if unused:
            task = asyncio.ensure_future(self._unlock(state.key, unused, self._generation))
            self._unlocking.add(task)
            task.add_done_callback(self._unlocking.discard)

    async def _unlock(self, key: int, slots: list[int], generation: int) -> None:
        async def unlock(conn: Connection) -> None:
            if generation == self._generation:
                await conn.execute("SELECT pg_advisory_unlock(%s, s) FROM unnest(%s::int[]) AS s", (key, slots))

        await self._conn.run(unlock)

    def _forget(self) -> None:
        """The session is lost: so are its locks."""
        self._generation += 1
        for state in self._hosts.values():
            state.held.clear()
            state.free.clear()
            self._wake(state)

    @staticmethod
    def _wake(state: _Host) -> None:
        state.changed.set()
        state.changed = asyncio.Event()


def _slot_of(asked: asyncio.Future[int | None]) -> int | None:
    return None if asked.cancelled() or asked.exception() is not None else asked.result()
