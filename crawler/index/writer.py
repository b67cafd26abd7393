"""Indexing during a crawl: each listed URL's records go in as its file is written.

:class:`IndexedStore` is the crawl's :class:`~crawler.store.Store` with one
addition: after the file is written (atomically, as always), its records are
upserted in one transaction. The file comes first, so the index can lag the
files but never lead them; a failure to index costs nothing but a count, and
``crawler index DIR`` catches up from the files.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from crawler.index.base import Database
from crawler.index.rows import image_row, seen_at
from crawler.index.schema import upsert_images
from crawler.models import ImageRecord
from crawler.store.files import Store


def new_run_id(kind: str = "crawl") -> str:
    """A run id that sorts by time and does not collide between machines."""
    return f"{kind}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def register_run(database: Database, run_id: str, kind: str) -> None:
    with database.transaction():
        database.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
        database.execute("INSERT INTO runs (run_id, started, kind) VALUES (?, ?, ?)",
                         (run_id, seen_at(datetime.now(timezone.utc)), kind))


class IndexWriter:
    """Upserts records into one index under one run id."""

    def __init__(self, database: Database, run_id: str) -> None:
        self.database = database
        self.run_id = run_id
        self._sql = upsert_images(database.dialect)

    def add(self, records: Sequence[ImageRecord]) -> None:
        """All of ``records`` in one transaction."""
        rows = [image_row(record, self.run_id) for record in records]
        with self.database.transaction():
            self.database.executemany(self._sql, rows)


class IndexedStore(Store):
    """A store that also indexes what it writes; ``failures`` counts listed URLs it could not index."""

    def __init__(self, root: Path, writer: IndexWriter) -> None:
        super().__init__(root)
        self.writer = writer
        self.failures = 0
        self.last_failure = ""

    def write(self, url: str, records: list[ImageRecord]) -> Path:
        path = super().write(url, records)
        try:
            self.writer.add(records)
        except Exception as exc:  # the file is written: the index can catch up with `crawler index`
            self.failures += 1
            self.last_failure = str(exc)
        return path
