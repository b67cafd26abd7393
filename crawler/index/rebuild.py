"""``crawler index DIR``: the index rebuilt from the JSON files, all or nothing.

SQLite: the new index is built in a temporary file beside the old one and
renamed over it, so an interrupted rebuild leaves the previous index as it
was (and its temporary file is removed by the next rebuild). The known-image
sets, which are not in the JSON files, are copied over from the old index. PostgreSQL: the
rows are replaced in one transaction, which readers see whole or not at all.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from crawler.index.base import Database
from crawler.index.database import SQLiteDatabase, connect, is_postgresql
from crawler.index.reading import read_files
from crawler.index.rows import image_row
from crawler.index.schema import upsert_images
from crawler.index.writer import new_run_id, register_run

_BUILDING = ".building"
_SET_COLUMNS = "name, category, source, added"
_KNOWN_COLUMNS = ("set_name, path, file_sha256, image_size, format, width, height, prefix_sha256, "
                  "content_sha256, phash, phash_kind")
# An index made before band hashes (schema 2) has no phash_kind: its known pHashes are all thumbnails'.
_KIND_BEFORE_V3 = "CASE WHEN phash IS NOT NULL THEN 'exif_thumbnail' END"
_BATCH = 5000


@dataclass
class RebuildReport:
    location: str
    files: int = 0
    records: int = 0
    problems: list[str] = field(default_factory=list)


def rebuild(root: Path, location: str) -> RebuildReport:
    """Rebuild the index at ``location`` from the record files under ``root``."""
    if is_postgresql(location):
        database = connect(location)
        try:
            return _fill(database, root, location, replace=True)
        finally:
            database.close()
    target = Path(location)
    for stale in target.parent.glob(f".{target.name}.*{_BUILDING}*"):
        stale.unlink(missing_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}{_BUILDING}")
    database = connect(str(temp))
    try:
        report = _fill(database, root, location, replace=False)
        if target.exists():
            report.problems += _keep_known_sets(database, target)
    finally:
        database.close()  # the last connection checkpoints the WAL into the file
    _retire(target)
    os.replace(temp, target)
    return report


def _fill(database: Database, root: Path, location: str, replace: bool) -> RebuildReport:
    report = RebuildReport(location)
    run_id = new_run_id("index")
    sql = upsert_images(database.dialect)
    with database.transaction():
        if replace:
            database.execute("DELETE FROM images")
        batch: list[list[object]] = []
        for found in read_files(root):
            report.files += 1
            report.problems += found.problems
            report.records += len(found.records)
            batch += [image_row(record, run_id) for record in found.records]
            if len(batch) >= _BATCH:
                database.executemany(sql, batch)
                batch = []
        database.executemany(sql, batch)
    register_run(database, run_id, "index")
    return report


def _keep_known_sets(database: Database, previous: Path) -> list[str]:
    """Copy the known sets of the index being replaced: they are not in the JSON files."""
    try:
        database.execute("ATTACH DATABASE ? AS previous", (str(previous),))
        try:
            tables = {row[0] for row in database.query("SELECT name FROM previous.sqlite_master WHERE type = 'table'")}
            if "known_images" not in tables:
                return []
            columns = {row[1] for row in database.query("PRAGMA previous.table_info(known_images)")}
            selected = _KNOWN_COLUMNS if "phash_kind" in columns else _KNOWN_COLUMNS.replace(
                "phash_kind", _KIND_BEFORE_V3)
            with database.transaction():
                database.execute(f"INSERT INTO known_sets ({_SET_COLUMNS}) SELECT {_SET_COLUMNS} FROM previous.known_sets")
                database.execute(f"INSERT INTO known_images ({_KNOWN_COLUMNS}) "
                                 f"SELECT {selected} FROM previous.known_images")
        finally:
            database.execute("DETACH DATABASE previous")
    except sqlite3.Error as exc:
        return [f"{previous}: its known-image sets could not be kept ({exc}); re-add or import them"]
    return []


def _retire(target: Path) -> None:
    """Fold the old index's WAL into it, so no stale WAL sits beside the new file."""
    if not target.exists():
        return
    old = SQLiteDatabase(target)
    try:
        old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        old.close()
