"""A finished batch into the database: its records into the index, its counts (a crawl's ``Stats``) beside the queue.

The records are upserted on ``(url, page_url)``, as a local crawl's are, so
a batch crawled again (its worker died before the queue heard it was done)
leaves each record once. The counts go to ``crawler_queue_results`` keyed by
the job, so they too count once. With the index in the queue's database both
go in one transaction; with an index elsewhere the records go first, and a
batch whose counts are missing is one the queue will run again. While the
database is away, saving waits for it (:class:`Reconnecting`): a batch is
never reported done before its records are in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from crawler.index.database import connect as connect_index
from crawler.index.postgres import pyformat
from crawler.index.rows import image_row
from crawler.index.schema import upsert_images
from crawler.models import ImageRecord
from crawler.queue.connection import Connection, Reconnecting

_UPSERT = pyformat(upsert_images("postgresql"))


class BatchWriter:
    """Saves batches into the index at ``index_url`` and their counts into the queue at ``queue_url``."""

    def __init__(self, queue_url: str, index_url: str) -> None:
        self._queue = Reconnecting(queue_url)
        self._index = self._queue if index_url == queue_url else Reconnecting(index_url)
        self._index_url = index_url

    async def open(self) -> None:
        connect_index(self._index_url).close()  # creates or upgrades the index, or says why it cannot
        await self._queue.open()
        if self._index is not self._queue:
            await self._index.open()

    async def close(self) -> None:
        await self._queue.close()
        await self._index.close()

    async def save(self, job_id: int, run: str, host: str, records: Sequence[ImageRecord],
                   counts: Mapping[str, Any]) -> None:
        rows = [image_row(record, run) for record in records]
        saved = json.dumps(counts)

        async def index(conn: Connection) -> None:
            async with conn.transaction():
                await _upsert(conn, rows)
                if self._index is self._queue:
                    await _count(conn, job_id, run, host, saved)

        async def queue(conn: Connection) -> None:
            await _count(conn, job_id, run, host, saved)

        await self._index.run(index)
        if self._index is not self._queue:
            await self._queue.run(queue)


async def _upsert(conn: Connection, rows: list[list[object]]) -> None:
    if rows:
        async with conn.cursor() as cursor:
            await cursor.executemany(_UPSERT, rows)


async def _count(conn: Connection, job_id: int, run: str, host: str, saved: str) -> None:
    await conn.execute(
        "INSERT INTO crawler_queue_results (job_id, run, host, stats) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (job_id) DO UPDATE SET stats = excluded.stats, finished = now()",
        (job_id, run, host, saved),
    )
