"""EXIF through exifread, made safe for truncated and malformed input.

``read_exif`` reads a prefix (bytes); ``read_exif_sparse`` reads the pieces of
a file held in a :class:`SparseBuffer`, treating a missing byte as the end of
the file, exactly as exifread treats a truncated one; once the needed ranges
are filled it gives the tags exifread gives for the whole file.

``scan_exif`` runs exifread over the pieces with a lenient reader and
also returns the ranges it tried to read but could not: exifread itself says what
it lacks, so the fetched ranges match its reads whatever quirks its parsers
have. (exifread lets a plain exception through, but stopping at the first
missing read would cost a fetch round per missing range.)
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import BinaryIO

import exifread

from crawler.fingerprint.ranges import Range
from crawler.fingerprint.sparse import SparseBuffer

# exifread logs a warning for every oddity in a truncated file; the record
# already says how many bytes were read, so keep the run's output clean.
logging.getLogger("exifread").setLevel(logging.CRITICAL)


def read_exif(data: bytes) -> dict[str, str]:
    """EXIF tag name -> printable value for what ``data`` holds; {} when none."""
    return _tags(io.BytesIO(data))


def read_exif_sparse(buffer: SparseBuffer) -> dict[str, str]:
    """Like :func:`read_exif`, over the pieces held (a gap reads as the end of the file)."""
    return _tags(buffer.reader(strict=False))  # type: ignore[arg-type]


@dataclass(frozen=True)
class ExifScan:
    """One pass of exifread over the pieces held: what it found and what it lacked."""

    tags: dict[str, str] = field(default_factory=dict)
    thumbnail: bytes | None = None  # the EXIF's JPEG thumbnail
    misses: tuple[Range, ...] = ()  # ranges exifread read that the buffer lacks


def scan_exif(buffer: SparseBuffer) -> ExifScan:
    """Tags, thumbnail and missing ranges, in one pass (exifread is pure Python: passes cost)."""
    reader = buffer.reader(strict=False)
    tags = _process(reader)  # type: ignore[arg-type]
    thumbnail = tags.get("JPEGThumbnail")
    jpeg = isinstance(thumbnail, bytes) and thumbnail.startswith(b"\xff\xd8")
    return ExifScan(_printables(tags), thumbnail if jpeg else None, tuple(reader.misses))  # type: ignore[arg-type]


def _tags(handle: BinaryIO) -> dict[str, str]:
    return _printables(_process(handle))


def _process(handle: BinaryIO) -> dict[str, object]:
    try:
        return dict(exifread.process_file(handle, details=False))
    except Exception:  # exifread raises many kinds on malformed input
        return {}


def _printables(tags: dict[str, object]) -> dict[str, str]:
    # Thumbnails come back as raw bytes, not tags: keep only tags.
    return {name: _printable(tag) for name, tag in tags.items() if hasattr(tag, "printable")}


def _printable(tag: object) -> str:
    return str(getattr(tag, "printable")).strip("\x00 ").strip()
