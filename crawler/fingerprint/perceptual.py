"""A perceptual hash from the picture a prefix can hold: the EXIF thumbnail.

A camera JPEG carries a 160x120 thumbnail in its EXIF; it is fetched with
the EXIF anyway, so a standard perceptual hash of it (pHash, the imagehash
library) comes at no network cost and survives re-encoding and resizing of
the full picture, which the byte hashes do not. imagehash pulls in SciPy,
so it is imported only when there is a thumbnail to hash.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

SOURCE_EXIF_THUMBNAIL = "exif_thumbnail"


def preload() -> None:
    """Import imagehash now: before forking workers, so that they share it rather than each import it mid-crawl."""
    import imagehash  # noqa: F401


def phash(picture: bytes) -> str | None:
    """64-bit pHash (16 hex digits) of an encoded picture; None if it does not decode."""
    import imagehash  # deferred: SciPy costs a third of a second to import

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(picture)) as image:
                return str(imagehash.phash(image))
    except Exception:  # Pillow raises many kinds on a damaged thumbnail
        return None


def distance(first: str, second: str) -> int:
    """Hamming distance between two hex pHashes."""
    return bin(int(first, 16) ^ int(second, 16)).count("1")


def thumbnail_phash(perceptual_hash: str | None, source: str | None) -> str | None:
    """The pHash if it is an EXIF thumbnail's, the kind ``crawler match`` compares; None otherwise.

    A band hash of a web image (``top_band_*``) sees another part of the
    picture and is comparable only with band hashes of the same kind, at its
    own threshold: matching does not use it yet.
    """
    return perceptual_hash if source == SOURCE_EXIF_THUMBNAIL else None
