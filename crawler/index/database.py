"""One connection to an index, whichever the backend, and opening it safely.

:func:`connect` resolves where the index is (a ``postgresql://`` URL, a
file path, or ``index.sqlite`` in the output folder), connects, and brings the
schema to :data:`~crawler.index.schema.LATEST` or refuses an index made by a
newer crawler. SQL is written once with ``?`` placeholders; the PostgreSQL
connection translates them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crawler.index.base import Database, IndexUnusable, Row
from crawler.index.schema import LATEST, Dialect, statements

INDEX_FILE = "index.sqlite"
# The work queue (crawler.queue) keeps its tables in the same PostgreSQL database; they are not the index's.
QUEUE_TABLE_PREFIXES = ("procrastinate_", "crawler_queue_")
_BUSY_SECONDS = 60.0  # several crawl processes write; each waits its turn this long


class SQLiteDatabase:
    """stdlib sqlite3 in WAL mode: readers never block the crawl that writes."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.location = str(path)
        try:
            self._conn = sqlite3.connect(path, timeout=_BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # the JSON files are the durable copy
            self._conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise IndexUnusable(f"cannot open the index {path}: {exc}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlock
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()


def index_location(given: str, output_dir: Path) -> str:
    """Where the index is: ``given`` (a URL or path) or ``index.sqlite`` in the output folder."""
    return given or str(output_dir / INDEX_FILE)


def is_postgresql(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def connect(location: str) -> Database:
    """A connection to the index at ``location``, its schema current."""
    if is_postgresql(location):
        from crawler.index.postgres import (
            PostgresDatabase,  # the driver only when asked for
        )

        database: Database = PostgresDatabase(location)
    else:
        path = Path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        database = SQLiteDatabase(path)
    try:
        upgrade(database)
    except BaseException:
        database.close()
        raise
    return database


def upgrade(database: Database) -> None:
    """Bring the schema to LATEST, or refuse an index from a newer crawler.

    A current index is only read: a reader must not wait for the crawl's write lock.
    """
    try:
        if _checked_version(database) == LATEST:
            return
        with database.transaction():
            if database.dialect == "postgresql":
                database.execute("SELECT pg_advisory_xact_lock(1668440439)")  # one upgrader at a time
            version = _checked_version(database)  # again: another process may have upgraded it
            for step in range(version, LATEST):
                for sql in statements(step, database.dialect):
                    database.execute(sql)
            if version < LATEST:
                database.execute("DELETE FROM meta WHERE key = 'schema_version'")
                database.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(LATEST),))
    except IndexUnusable:
        raise
    except Exception as exc:  # sqlite3.Error / psycopg.Error: a damaged or foreign database
        raise IndexUnusable(f"cannot use the index {database.location}: {exc}") from None


def _checked_version(database: Database) -> int:
    version = schema_version(database)
    if version > LATEST:
        raise IndexUnusable(
            f"the index {database.location} has schema version {version}, made by a newer crawler; "
            f"this one reads up to version {LATEST}: upgrade the crawler, or rebuild the index "
            "from the JSON files with `crawler index DIR`"
        )
    return version


def schema_version(database: Database) -> int:
    """The version recorded in ``meta``; 0 for an empty database."""
    if database.dialect == "sqlite":
        tables = {row[0] for row in database.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    else:
        tables = {row[0] for row in database.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
    if "meta" not in tables:
        if any(not table.startswith(QUEUE_TABLE_PREFIXES) for table in tables):
            raise IndexUnusable(f"{database.location} is not a crawler index (it has tables {sorted(tables)})")
        return 0
    rows = database.query("SELECT value FROM meta WHERE key = 'schema_version'")
    if not rows or not str(rows[0][0]).isdigit():
        raise IndexUnusable(f"{database.location} has no valid schema version: rebuild it with `crawler index DIR`")
    return int(rows[0][0])
