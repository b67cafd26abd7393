"""Bytes -> fingerprint fields of a record. Pure: no I/O, never raises.

The crawler calls it with the prefix it fetched over HTTP; the eval harness
calls it with the first bytes of a local file. Both get the same fields.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from crawler.formats.dimensions import read_dimensions
from crawler.formats.exif import read_exif
from crawler.formats.sniff import sniff_format

HASHED_PREFIX_BYTES = 10240  # fixed by the field name sha256_first_10240_bytes
SAMPLE_BYTES = 128


@dataclass(frozen=True)
class Fingerprint:
    """The record fields computed from an image's first bytes."""

    sha256_first_10240_bytes: str
    random_128_bytes_sample_start: str
    sample_offset: int
    format: str | None
    width: int | None
    height: int | None
    exif: dict[str, str] = field(default_factory=dict)


def prefix_sha256(data: bytes) -> str:
    """SHA-256 hex of exactly the first 10,240 bytes (fewer if the data is shorter)."""
    return hashlib.sha256(data[:HASHED_PREFIX_BYTES]).hexdigest()


def sample_offset(prefix_hash: str, available: int, sample_bytes: int = SAMPLE_BYTES) -> int:
    """Where the sample starts: spread over the prefix, derived from its hash.

    The offset looks random across images but is reproducible: the same
    prefix always yields the same offset, so samples of one image taken from
    two sites (or from a local file) can be compared byte for byte.
    """
    span = min(available, HASHED_PREFIX_BYTES) - sample_bytes + 1
    if span <= 1:
        return 0
    return int(prefix_hash[:16], 16) % span


def fingerprint(data: bytes, sample_bytes: int = SAMPLE_BYTES) -> Fingerprint:
    """Fingerprint fields from the first bytes of an image (any length)."""
    digest = prefix_sha256(data)
    offset = sample_offset(digest, len(data), sample_bytes)
    dims = read_dimensions(data)
    return Fingerprint(
        sha256_first_10240_bytes=digest,
        random_128_bytes_sample_start=data[offset : offset + sample_bytes].hex(),
        sample_offset=offset,
        format=sniff_format(data),
        width=dims[0] if dims else None,
        height=dims[1] if dims else None,
        exif=read_exif(data),
    )
