"""Known-image sets: fingerprints of a local folder or archive, never the images.

As forensic hash databases do, each set has a name and a category
("notable", "irrelevant", ...). ``add`` fingerprints every image of a folder
or tar archive with the crawler's own code (:func:`crawler.match.local.file_record`),
so its keys compare with crawled records on equal terms. Sets travel as
plain files: JSON Lines (a header line naming the set, then one fingerprint
per line) or CSV (a header row of the columns). An import is checked whole
before anything is written, and written in one transaction: a bad line is
reported by number and nothing of the file stays.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crawler.errors import CrawlerError
from crawler.evaluation.sources import Member, is_tar, iter_tar, list_files
from crawler.fingerprint.perceptual import SOURCE_EXIF_THUMBNAIL, hash_kind
from crawler.fingerprint.sniff import sniff_format
from crawler.index.base import Database
from crawler.index.rows import phash_int, seen_at
from crawler.match.local import file_record
from crawler.settings import FingerprintSettings

FORMAT_TAG = "crawler-known-set"
_HEX64 = r"^[0-9a-f]{64}$"
_KIND = rf"^({SOURCE_EXIF_THUMBNAIL}|top_band_[0-9]+)$"


class KnownSetError(CrawlerError):
    """A known set cannot be added, imported or found; the message says which line or name."""


class KnownEntry(BaseModel):
    """One fingerprint of a known set, as exported (one JSON line or CSV row)."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="The file's path in the source folder or archive.")
    file_sha256: str | None = Field(default=None, pattern=_HEX64, description="SHA-256 of the whole file.")
    image_size: int | None = Field(default=None, ge=0, description="File size in bytes.")
    format: str | None = None
    width: int | None = Field(default=None, ge=0)
    height: int | None = Field(default=None, ge=0)
    prefix_sha256: str | None = Field(default=None, pattern=_HEX64, description="SHA-256 of the first 10,240 bytes.")
    content_sha256: str | None = Field(default=None, pattern=_HEX64)
    phash: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$", description="64-bit pHash, hex.")
    phash_kind: str | None = Field(default=None, pattern=_KIND,
                                   description="What the pHash was computed from: exif_thumbnail or top_band_N.")

    @model_validator(mode="after")
    def _kind_of_older_files(self) -> KnownEntry:
        """Sets exported before band hashes held thumbnails' pHashes only, and had no ``phash_kind``."""
        if self.phash is not None and self.phash_kind is None:
            self.phash_kind = SOURCE_EXIF_THUMBNAIL
        elif self.phash is None:
            self.phash_kind = None
        return self


COLUMNS = list(KnownEntry.model_fields)
_COLUMNS_BEFORE_KINDS = COLUMNS[:-1]  # CSV files exported before band hashes
_INSERT = f"INSERT INTO known_images (set_name, {', '.join(COLUMNS)}) VALUES (?, {', '.join('?' for _ in COLUMNS)})"


@dataclass
class AddReport:
    entries: list[KnownEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def fingerprint_source(source: Path, settings: FingerprintSettings) -> AddReport:
    """Fingerprint every image of a folder or tar archive; non-images are listed as skipped."""
    report = AddReport()
    for name, data in _files(source, report):
        image_format = sniff_format(data[:16])
        if image_format is None:
            report.skipped.append(f"{name}: not an image")
            continue
        record = file_record(name, data, settings)
        report.entries.append(KnownEntry(
            path=name, file_sha256=hashlib.sha256(data).hexdigest(), image_size=len(data), format=record.format,
            width=record.width, height=record.height, prefix_sha256=record.sha256_first_10240_bytes,
            content_sha256=record.content_sha256, phash=record.perceptual_hash,
            phash_kind=hash_kind(record.perceptual_hash_source),
        ))
    return report


def _files(source: Path, report: AddReport) -> Iterator[tuple[str, bytes]]:
    if is_tar(source):
        for item in iter_tar(source):
            if isinstance(item, Member):
                yield item.name, item.stream.read()
            else:
                report.skipped.append(f"{item.path}: {item.reason}")
        return
    if not source.is_dir():
        raise KnownSetError(f"{source} is neither a folder nor a tar archive")
    listing = list_files(source)
    report.skipped += [f"{p.path}: {p.reason}" for p in [*listing.unreadable, *listing.skipped]]
    for name in listing.files:
        try:
            yield name, (source / name).read_bytes()
        except OSError as exc:
            report.skipped.append(f"{name}: {exc.strerror}")


def store(database: Database, name: str, category: str, source: str, entries: list[KnownEntry],
          replace: bool = False) -> None:
    """Write a set in one transaction; an existing name is an error unless ``replace``."""
    with database.transaction():
        exists = database.query("SELECT 1 FROM known_sets WHERE name = ?", (name,))
        if exists and not replace:
            raise KnownSetError(f"a known set named {name!r} exists already (--replace replaces it)")
        database.execute("DELETE FROM known_images WHERE set_name = ?", (name,))
        database.execute("DELETE FROM known_sets WHERE name = ?", (name,))
        database.execute("INSERT INTO known_sets (name, category, source, added) VALUES (?, ?, ?, ?)",
                         (name, category, source, seen_at(datetime.now(timezone.utc))))
        database.executemany(_INSERT, [_row(name, entry) for entry in entries])


def _row(name: str, entry: KnownEntry) -> list[Any]:
    values = entry.model_dump()
    values["phash"] = phash_int(entry.phash)
    return [name, *(values[column] for column in COLUMNS)]


def sets(database: Database, name: str | None = None) -> list[tuple[str, str, str, str, int]]:
    """(name, category, source, added, entries) of every set, or of the one named."""
    where, params = ("WHERE s.name = ?", (name,)) if name else ("", ())
    rows = database.query(
        "SELECT s.name, s.category, s.source, s.added, count(k.path) FROM known_sets s "
        f"LEFT JOIN known_images k ON k.set_name = s.name {where} "
        "GROUP BY s.name, s.category, s.source, s.added ORDER BY s.name", params)
    if name and not rows:
        raise KnownSetError(f"no known set named {name!r} (`crawler known list` lists them)")
    return [(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in rows]


def entries(database: Database, name: str) -> list[KnownEntry]:
    rows = database.query(f"SELECT {', '.join(COLUMNS)} FROM known_images WHERE set_name = ? ORDER BY path", (name,))
    result = []
    for row in rows:
        values = dict(zip(COLUMNS, row))
        values["phash"] = None if values["phash"] is None else f"{values['phash'] & (2**64 - 1):016x}"
        result.append(KnownEntry.model_validate(values))
    return result


def export_text(name: str, category: str, known: list[KnownEntry], file_format: str) -> str:
    if file_format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for entry in known:
            writer.writerow({k: "" if v is None else v for k, v in entry.model_dump().items()})
        return out.getvalue()
    header = json.dumps({"format": FORMAT_TAG, "version": 1, "name": name, "category": category})
    return header + "\n" + "".join(entry.model_dump_json() + "\n" for entry in known)


@dataclass(frozen=True)
class Imported:
    name: str | None
    category: str | None
    entries: list[KnownEntry]


def parse(path: Path) -> Imported:
    """Read an exported set, checking every line; raises :class:`KnownSetError` naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnownSetError(f"cannot read {path}: {exc}") from None
    if path.suffix.lower() == ".csv" or not text.lstrip().startswith("{"):
        return Imported(None, None, _parse_csv(path, text))
    return _parse_jsonl(path, text)


def _parse_jsonl(path: Path, text: str) -> Imported:
    lines = text.splitlines()
    try:
        header = json.loads(lines[0])
    except ValueError as exc:
        raise KnownSetError(f"{path}:1: not a JSON header line ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_TAG:
        raise KnownSetError(f'{path}:1: the header line must be {{"format": "{FORMAT_TAG}", "name": ..., ...}}')
    found = []
    for number, line in enumerate(lines[1:], 2):
        if line.strip():
            found.append(_entry(path, number, line))
    return Imported(_optional_text(header.get("name")), _optional_text(header.get("category")), found)


def _entry(path: Path, number: int, line: str) -> KnownEntry:
    try:
        return KnownEntry.model_validate_json(line)
    except ValidationError as exc:
        raise KnownSetError(f"{path}:{number}: {_problems(exc)}") from None


def _parse_csv(path: Path, text: str) -> list[KnownEntry]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or list(reader.fieldnames) not in (COLUMNS, _COLUMNS_BEFORE_KINDS):
        raise KnownSetError(f"{path}:1: wrong columns: expected {','.join(COLUMNS)}; got {','.join(reader.fieldnames or [])}")
    found = []
    for row in reader:
        values = {key: (value if value != "" else None) for key, value in row.items()}
        if None in row or any(value is None for value in row.values()):
            raise KnownSetError(f"{path}:{reader.line_num}: expected {len(reader.fieldnames)} fields")
        try:
            found.append(KnownEntry.model_validate(values))
        except ValidationError as exc:
            raise KnownSetError(f"{path}:{reader.line_num}: {_problems(exc)}") from None
    return found


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors())


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
