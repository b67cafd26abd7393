"""Bytes -> fingerprint fields of a record. Pure: no I/O, never raises.

The crawler calls it with the prefix it fetched over HTTP and the sparse
buffer of everything it fetched (prefix plus follow-up ranges); the eval
harness calls it with the first bytes of a local file, or the buffer the
adaptive loop would have fetched of it. Both get the same fields.

``perceptual_hash`` is the pHash of the EXIF thumbnail when the image has
one (source ``exif_thumbnail``), else the web perceptual hash of the top band
of its picture (source e.g. ``top_band_8:jpeg_baseline``, see
:mod:`crawler.fingerprint.band`). Hashes compare only within one source kind.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from crawler.fingerprint.analyze import analyze
from crawler.fingerprint.layout import CONTENT_BYTES, Layout
from crawler.fingerprint.perceptual import SOURCE_EXIF_THUMBNAIL, phash
from crawler.fingerprint.sparse import SparseBuffer
from crawler.models import HASHED_PREFIX_BYTES
from crawler.settings import FINGERPRINT_DEFAULTS

SAMPLE_BYTES = FINGERPRINT_DEFAULTS.sample_bytes


@dataclass(frozen=True)
class Fingerprint:
    """The record fields computed from an image's bytes."""

    sha256_first_10240_bytes: str
    random_128_bytes_sample_start: str
    sample_offset: int
    format: str | None
    width: int | None
    height: int | None
    progressive: bool | None = None
    image_data_offset: int | None = None
    content_sha256: str | None = None
    perceptual_hash: str | None = None
    perceptual_hash_source: str | None = None
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


def fingerprint(
    data: bytes,
    sample_bytes: int = SAMPLE_BYTES,
    layout: Layout | None = None,
    content_bytes: int = CONTENT_BYTES,
) -> Fingerprint:
    """Fingerprint fields from an image's first bytes (``data``, any length).

    ``layout`` is the format parsers' analysis of every byte fetched of the
    image (the adaptive loop's last one); without it, ``data`` is analysed.
    """
    digest = prefix_sha256(data)
    offset = sample_offset(digest, len(data), sample_bytes)
    layout = layout if layout is not None else analyze(SparseBuffer.of(data), content_bytes)
    picture_hash, source = _perceptual(layout)
    return Fingerprint(
        sha256_first_10240_bytes=digest,
        random_128_bytes_sample_start=data[offset : offset + sample_bytes].hex(),
        sample_offset=offset,
        format=layout.format,
        width=layout.width,
        height=layout.height,
        progressive=layout.progressive,
        image_data_offset=layout.image_data_offset,
        content_sha256=layout.content_sha256,
        perceptual_hash=picture_hash,
        perceptual_hash_source=source,
        exif=layout.exif,
    )


def _perceptual(layout: Layout) -> tuple[str | None, str | None]:
    """(pHash, its source): the EXIF thumbnail's when there is one, else the top band's (``top_band_8:...``)."""
    if layout.thumbnail:
        picture_hash = phash(layout.thumbnail)
        return picture_hash, SOURCE_EXIF_THUMBNAIL if picture_hash else None
    if layout.band is not None:
        return layout.band.value, layout.band.source
    return None, None
