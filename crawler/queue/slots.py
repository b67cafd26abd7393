"""``limits.per_host`` across every worker: a host's slots are PostgreSQL advisory locks.

Slot ``i`` of host ``h`` is the session advisory lock ``(key(h), i)``, for
``i`` below ``per_host``. A request to a host holds one of its slots, so
however many workers crawl, and whichever listed page sent them to the host
(a page on host A embeds images on hosts B and C: a lock on A's batch alone
would let two workers hit B at once), no host has more than ``per_host``
requests in flight.

A round trip per request would cost the database dearly, so a worker keeps
the slots it holds while it has requests waiting for that host, handing a
slot from one request straight to the next in line (first come, first
served, one wake-up per hand-over) without asking the database, and lets go
of a slot only after it has stayed unused for :data:`_LINGER` seconds.
While requests wait and the worker holds fewer than ``per_host`` slots, one
task per host asks the database for more, again after a pause that doubles
up to :data:`_LONGEST_POLL` while other workers hold them all.

A worker that dies loses its session, and PostgreSQL frees its slots at once.
If the database restarts, every session's slots are freed: the worker
forgets the slots it held and takes them again for its next requests
(requests already in flight finish; this is the one moment the limit can be
passed, by those).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from crawler.queue.app import host_key
from crawler.queue.connection import Connection, Reconnecting

_LINGER = 0.25  # seconds an unused slot is kept: the next page's images usually want it back
_FIRST_POLL = 0.02
_LONGEST_POLL = 0.5

Grant = tuple[int, int]  # a slot, and the session generation it was taken in


@dataclass
class _Host:
    host: str
    key: int
    held: set[int] = field(default_factory=set)  # slots this worker holds in the database
    free: list[int] = field(default_factory=list)  # held, with no request on them
    waiting: deque[asyncio.Future[Grant]] = field(default_factory=deque)  # requests in line for a slot
    asker: asyncio.Task[None] | None = None  # asks the database for more slots while requests wait
    linger: asyncio.TimerHandle | None = None


class FleetSlots:
    """The :class:`crawler.net.slots.HostSlots` of a queue worker."""

    def __init__(self, url: str, per_host: int) -> None:
        self._per_host = per_host
        self._hosts: dict[str, _Host] = {}
        self._generation = 0  # a new database session: slots taken before are gone
        self._conn = Reconnecting(url, on_lost=self._forget)
        self._background: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        await self._conn.open()

    async def close(self) -> None:
        for state in self._hosts.values():
            if state.asker is not None:
                state.asker.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self._conn.close()  # the session's locks go with it

    @contextlib.asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        state = self._hosts.setdefault(host, _Host(host, host_key(host)))
        slot, generation = await self._take(state)
        try:
            yield
        finally:
            self._give_back(state, slot, generation)

    async def _take(self, state: _Host) -> Grant:
        if state.free:
            return state.free.pop(), self._generation
        turn: asyncio.Future[Grant] = asyncio.get_running_loop().create_future()
        state.waiting.append(turn)
        self._keep_asking(state)
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # granted as it was cancelled: pass the slot on
                self._give_back(state, *turn.result())
            raise

    def _give_back(self, state: _Host, slot: int, generation: int) -> None:
        """The next request in line gets the slot; with none, it waits the linger out."""
        if generation != self._generation:
            return  # taken in a session that is gone, and its lock with it
        while state.waiting:
            turn = state.waiting.popleft()
            if not turn.done():
                turn.set_result((slot, generation))
                return
        state.free.append(slot)
        if state.linger is None:
            state.linger = asyncio.get_running_loop().call_later(_LINGER, self._let_go, state)

    def _keep_asking(self, state: _Host) -> None:
        if state.asker is None and len(state.held) < self._per_host:
            state.asker = asyncio.ensure_future(self._ask_while_waiting(state))
            self._background.add(state.asker)
            state.asker.add_done_callback(self._background.discard)

    async def _ask_while_waiting(self, state: _Host) -> None:
        """Ask the database for slots while requests are in line and this worker holds fewer than per_host."""
        pause = _FIRST_POLL
        try:
            while _in_line(state) and len(state.held) < self._per_host:
                slot = await self._ask(state)
                if slot is None:
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, _LONGEST_POLL)
                else:
                    state.held.add(slot)
                    self._give_back(state, slot, self._generation)
        finally:
            state.asker = None

    async def _ask(self, state: _Host) -> int | None:
        """One round trip: a free slot of the host, now locked by this worker; None when others hold them all."""

        async def take(conn: Connection) -> int | None:
            cursor = await conn.execute("SELECT crawler_take_host_slot(%s, %s, %s)",
                                        (state.key, self._per_host, sorted(state.held)))
            row = await cursor.fetchone()
            return None if row is None or row[0] is None else int(str(row[0]))

        return await self._conn.run(take)

    def _let_go(self, state: _Host) -> None:
        """Unlock the host's slots that stayed unused through the linger."""
        state.linger = None
        unused, state.free = state.free, []
        state.held.difference_update(unused)
        if not state.held and not state.waiting and state.asker is None and self._hosts.get(state.host) is state:
            del self._hosts[state.host]
        if unused:
            task = asyncio.ensure_future(self._unlock(state.key, unused, self._generation))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _unlock(self, key: int, slots: list[int], generation: int) -> None:
        async def unlock(conn: Connection) -> None:
            if generation == self._generation:
                await conn.execute("SELECT pg_advisory_unlock(%s, s) FROM unnest(%s::int[]) AS s", (key, slots))

        await self._conn.run(unlock)

    def _forget(self) -> None:
        """The session is lost: so are its locks. Requests in line get slots of the new session."""
        self._generation += 1
        for state in self._hosts.values():
            state.held.clear()
            state.free.clear()
            if _in_line(state):
                self._keep_asking(state)


def _in_line(state: _Host) -> bool:
    return any(not turn.done() for turn in state.waiting)
