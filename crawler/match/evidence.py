"""The evidence levels, strongest first, and what each can and cannot prove.

1. identical file: equal ``sha256_first_10240_bytes`` and equal, known
   ``image_size``. The prefix alone is not enough: two files that share their
   first 10,240 bytes (a long EXIF block) but differ in size are different files.
2. same picture, metadata differs: equal ``content_sha256`` (the frame header,
   tables and first image data), whatever the metadata.
3. similar picture: pHashes of one kind at most that kind's threshold of
   bits apart (the Hamming distance is shown): re-saved, resized, edited.
   The kinds are EXIF thumbnails (the whole picture, small) and top bands of
   web images (``top_band_8``: the top of the picture, decoded from the bytes
   fetched); a thumbnail's hash never compares with a band's, and band
   hashes compare only between pictures of the same aspect ratio (a band sees
   only the top of a picture; resizing keeps the ratio).

A missing value never equals another missing value. An equal ETag is shown
as supporting evidence only, between URLs of the same host: it is a server's
token, and unrelated servers (or a missing header) say nothing about the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from crawler.fingerprint.perceptual import SOURCE_EXIF_THUMBNAIL
from crawler.settings import IndexSettings


class Level(IntEnum):
    IDENTICAL = 1
    SAME_PICTURE = 2
    SIMILAR = 3

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Level.IDENTICAL: "identical file",
    Level.SAME_PICTURE: "same picture, metadata differs",
    Level.SIMILAR: "similar picture",
}


def hamming(first: int, second: int) -> int:
    """Bits that differ between two 64-bit hashes (signed or not)."""
    return ((first ^ second) & ((1 << 64) - 1)).bit_count()


@dataclass(frozen=True)
class Thresholds:
    """Bits at which two pHashes of one kind are taken for one picture: EXIF thumbnails, top bands."""

    thumbnail: int
    band: int

    @classmethod
    def of(cls, index: IndexSettings) -> Thresholds:
        return cls(index.phash_threshold, index.band_threshold)

    def for_kind(self, kind: str) -> int:
        return self.thumbnail if kind == SOURCE_EXIF_THUMBNAIL else self.band


def shape_must_match(kind: str) -> bool:
    """Band hashes tie only pictures of one aspect ratio; a thumbnail's pHash sees the whole picture."""
    return kind != SOURCE_EXIF_THUMBNAIL
