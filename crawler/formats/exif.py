"""EXIF through exifread, made safe for truncated and malformed input."""

from __future__ import annotations

import io
import logging

import exifread

# exifread logs a warning for every oddity in a truncated file; the record
# already says how many bytes were read, so keep the run's output clean.
logging.getLogger("exifread").setLevel(logging.CRITICAL)


def read_exif(data: bytes) -> dict[str, str]:
    """EXIF tag name -> printable value for what ``data`` holds; {} when none."""
    try:
        tags = exifread.process_file(io.BytesIO(data), details=False)
    except Exception:  # exifread raises many kinds on malformed input
        return {}
    # Thumbnails come back as raw bytes, not tags: keep only tags.
    return {name: _printable(tag) for name, tag in tags.items() if hasattr(tag, "printable")}


def _printable(tag: object) -> str:
    return str(getattr(tag, "printable")).strip("\x00 ").strip()
