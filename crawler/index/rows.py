"""An :class:`ImageRecord` -> the values of its index row. Pure.

What the index keeps of a record: where it was seen, the matching keys
(prefix hash with the size, content hash, pHash with its kind and pieces) and the EXIF
highlights an investigator asks about first (make, model, date taken, whether
GPS is present). Empty strings never stand for a value: missing is NULL, and
NULL never equals NULL in a match.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from crawler.fingerprint.perceptual import hash_kind
from crawler.models import ImageRecord

_TAKEN_TAGS = ("EXIF DateTimeOriginal", "EXIF DateTimeDigitized", "Image DateTime")
PIECES = 4
PIECE_BITS = 16


def seen_at(moment: datetime) -> str:
    """A fixed-width UTC timestamp, so that text order is time order."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def host_of(url: str) -> str:
    """The host with its port: two sites on one address are two hosts."""
    return urlsplit(url).netloc.lower()


def phash_int(hex_hash: str | None) -> int | None:
    """A 64-bit hex pHash as the signed integer the databases store; None if not one."""
    if not hex_hash or len(hex_hash) != 16:
        return None
    try:
        value = int(hex_hash, 16)
    except ValueError:
        return None
    return value - (1 << 64) if value >= 1 << 63 else value


def phash_pieces(value: int | None) -> list[int | None]:
    """The four 16-bit pieces of a pHash (multi-index hashing keys)."""
    if value is None:
        return [None] * PIECES
    unsigned = value & ((1 << 64) - 1)
    return [(unsigned >> (PIECE_BITS * k)) & 0xFFFF for k in range(PIECES)]


def exif_highlights(exif: dict[str, str]) -> tuple[str | None, str | None, str | None, int]:
    """(make, model, date taken, GPS present 0/1) from exifread's tag names."""
    taken = next((exif[tag] for tag in _TAKEN_TAGS if exif.get(tag, "").strip()), None)
    gps = int(any(tag.startswith("GPS ") and tag != "GPS GPSVersionID" for tag in exif))
    return (_text(exif.get("Image Make")), _text(exif.get("Image Model")), _text(taken), gps)


def image_row(record: ImageRecord, run_id: str) -> list[Any]:
    """The values for :data:`crawler.index.schema.IMAGE_COLUMNS`, in order."""
    phash = phash_int(record.perceptual_hash)
    kind = hash_kind(record.perceptual_hash_source) if phash is not None else None
    seen = seen_at(record.timestamp)
    return [
        record.url, record.page_url or "", host_of(record.url), record.status, record.error_kind,
        record.final_url, record.image_size, _text(record.etag), record.format, record.width, record.height,
        _text(record.sha256_first_10240_bytes), _text(record.content_sha256),
        phash, kind, *phash_pieces(phash),
        *exif_highlights(record.exif), record.thumbnail_file,
        seen, seen, run_id, run_id,
    ]  # fmt: skip


def _text(value: str | None) -> str | None:
    value = value.strip() if value else None
    return value or None
