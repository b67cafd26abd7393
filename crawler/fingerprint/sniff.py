"""Sniff an image format from its first bytes (magic numbers), once.

The table maps a format name to a predicate over the leading bytes; the order
matters only for formats that share a container (RIFF, ISO BMFF).
"""

from __future__ import annotations

from collections.abc import Callable

_ISOBMFF_BRANDS = {
    b"heic": "heic", b"heix": "heic", b"hevc": "heic", b"heim": "heic", b"heis": "heic",
    b"mif1": "heif", b"msf1": "heif", b"avif": "avif", b"avis": "avif",
}


def _isobmff(data: bytes) -> str | None:
    if len(data) < 12 or data[4:8] != b"ftyp":
        return None
    return _ISOBMFF_BRANDS.get(data[8:12])


_MAGIC: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("jpeg", lambda d: d[:3] == b"\xff\xd8\xff"),
    ("png", lambda d: d[:8] == b"\x89PNG\r\n\x1a\n"),
    ("gif", lambda d: d[:6] in (b"GIF87a", b"GIF89a")),
    ("webp", lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP"),
    ("tiff", lambda d: d[:4] in (b"II*\x00", b"MM\x00*")),
    ("bmp", lambda d: d[:2] == b"BM" and len(d) >= 14),
    ("ico", lambda d: d[:4] == b"\x00\x00\x01\x00"),
    ("jxl", lambda d: d[:2] == b"\xff\x0a" or d[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n"),
)


def sniff_format(data: bytes) -> str | None:
    """Name of the image format the bytes start with, or None."""
    for name, matches in _MAGIC:
        if matches(data):
            return name
    return _isobmff(data)


def answers_html(data: bytes, content_type: str | None) -> bool:
    """An answer that is HTML and not an image: no image magic, and an HTML type or start."""
    if sniff_format(data) is not None:
        return False
    return "html" in (content_type or "").lower() or looks_like_html(data)


def looks_like_html(data: bytes) -> bool:
    """True when the bytes start like an HTML (or XHTML) document."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body", b"<!--"))
