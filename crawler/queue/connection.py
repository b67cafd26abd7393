"""A PostgreSQL connection that waits out a database restart instead of failing.

A worker must not crash, nor turn its work into error records, because the
database went away for a while: :meth:`Reconnecting.run` runs a piece of
work on the connection, and when the connection is lost it reconnects
(waiting longer each time, up to :data:`_LONGEST_WAIT`) and runs it again.
So the piece must be safe to repeat: one transaction, or idempotent
statements. ``on_lost`` lets the owner forget what the lost session held
(advisory locks die with it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg

from crawler.redact import redact_text, redact_url

T = TypeVar("T")
Connection = psycopg.AsyncConnection[tuple[object, ...]]
_FIRST_WAIT = 0.5
_LONGEST_WAIT = 10.0
log = logging.getLogger("crawler.queue")


class Reconnecting:
    """One autocommit connection to ``url``, reopened whenever it is lost; ``await open()`` first."""

    def __init__(self, url: str, on_lost: Callable[[], None] | None = None) -> None:
        self._url = url
        self._on_lost = on_lost
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()  # one piece of work at a time on the connection

    async def open(self) -> None:
        await self._connect()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def run(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """``work(connection)``, again on a new connection for as long as the database is away."""
        async with self._lock:
            while True:
                conn = self._conn or await self._connect()
                try:
                    return await work(conn)
                except psycopg.OperationalError as exc:
                    if not conn.closed and not conn.broken:
                        raise  # the database answered with an error: no restart to wait out
                    log.warning("lost the queue database (%s); reconnecting", redact_text(str(exc)).strip())
                    self._conn = None
                    if self._on_lost is not None:
                        self._on_lost()

    async def _connect(self) -> Connection:
        wait = _FIRST_WAIT
        while True:
            try:
                self._conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
                return self._conn
            except psycopg.OperationalError as exc:
                log.warning("cannot reach %s (%s); trying again in %.1f s", redact_url(self._url),
                            redact_text(str(exc)).strip(), wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, _LONGEST_WAIT)
