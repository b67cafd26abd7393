"""What every index backend shares: the connection's interface, a row, and the error of an unusable index.

Both backends (:mod:`crawler.index.database` for SQLite, :mod:`crawler.index.postgres`)
and every reader of the index import these from here, so imports run one way:
the backends never import each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from crawler.errors import CrawlerError
from crawler.index.schema import Dialect

Row = tuple[Any, ...]


class IndexUnusable(CrawlerError):
    """The index cannot be opened, read or upgraded; the message says why and what to do."""


class Database(Protocol):
    """One connection to an index; SQL is written once with ``?`` placeholders."""

    dialect: Dialect
    location: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def transaction(self) -> Any: ...

    def close(self) -> None: ...
