"""The PostgreSQL backend (psycopg 3): one index shared by a team or many crawl machines.

Same schema and SQL as SQLite; ``?`` placeholders become ``%s``. The schema
upgrade (:func:`crawler.index.database.upgrade`) takes a transaction-scoped
advisory lock, so crawl processes that start together do not race to create
the tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from crawler.index.base import IndexUnusable, Row
from crawler.index.schema import Dialect
from crawler.redact import redact_text, redact_url


def pyformat(statement: str) -> str:
    """A statement written with `?` placeholders, in psycopg's `%s` style."""
    return statement.replace("%", "%%").replace("?", "%s")


class PostgresDatabase:
    dialect: Dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.location = redact_url(url)  # messages never show the password
        try:
            self._conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise IndexUnusable(f"cannot connect to the index {self.location}: {redact_text(str(exc))}".strip()) from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(pyformat(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(row) for row in rows]
        if batch:
            with self._conn.cursor() as cursor:
                cursor.executemany(pyformat(sql), batch)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._conn.cursor() as cursor:
            cursor.execute(pyformat(sql), tuple(params))
            return [tuple(row) for row in cursor.fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._conn.transaction():
            yield

    def close(self) -> None:
        self._conn.close()

