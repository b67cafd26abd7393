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


def hash_kind(source: str | None) -> str | None:
    """The kind of a pHash's source: ``exif_thumbnail``, or the band (``top_band_8``) without its decoder.

    Hashes compare only within one kind: a thumbnail sees the whole picture,
    a band its top part; bands decoded from a baseline JPEG, a progressive
    scan, a PNG or a whole WebP see the same part and compare.
    """
    return source.split(":", 1)[0] if source else None
