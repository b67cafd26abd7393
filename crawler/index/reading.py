"""Output files -> records, tolerant of what older versions and accidents left.

A file that is not complete JSON (truncated, not JSON at all) or not a list is
reported and skipped; a record from an older version gets defaults for the
fields it lacks (the first version had no ``status``: a record with a prefix
hash was fingerprinted) and loses fields this version does not know; a
record that still does not validate is reported by file and position.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crawler.models import ImageRecord

_KNOWN = frozenset(ImageRecord.model_fields)


@dataclass(frozen=True)
class FileRecords:
    path: Path
    records: list[ImageRecord]
    problems: list[str]


def output_files(root: Path) -> list[Path]:
    """The crawl's record files: ``<root>/<host>/<id>.json`` (temporary files excluded)."""
    return sorted(path for path in root.glob("*/*.json") if not path.name.startswith("."))


def read_files(root: Path) -> Iterator[FileRecords]:
    for path in output_files(root):
        yield read_file(path)


def read_file(path: Path) -> FileRecords:
    try:
        items = json.loads(path.read_bytes())
        mtime = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except (OSError, ValueError) as exc:
        return FileRecords(path, [], [f"{path}: skipped, not readable JSON ({exc})"])
    if not isinstance(items, list):
        return FileRecords(path, [], [f"{path}: skipped, not a list of records"])
    records: list[ImageRecord] = []
    problems: list[str] = []
    for position, item in enumerate(items, 1):
        try:
            records.append(_record(item, mtime))
        except (ValidationError, TypeError) as exc:
            problems.append(f"{path}: record {position} skipped: {_reason(exc)}")
    return FileRecords(path, records, problems)


def _record(item: Any, mtime: datetime) -> ImageRecord:
    if not isinstance(item, dict):
        raise TypeError("not a JSON object")
    fields = {key: value for key, value in item.items() if key in _KNOWN}
    fields.setdefault("status", "ok" if fields.get("sha256_first_10240_bytes") else "error")
    fields.setdefault("timestamp", mtime)
    return ImageRecord.model_validate(fields)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return str(exc)
