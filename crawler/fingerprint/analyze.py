"""Pure parsers for image headers: sniff the format, read dimensions and EXIF.

Every function here takes bytes that may be truncated or malformed (a prefix
of an image, or whatever a lying server sent) and never raises.

:func:`analyze` dispatches a :class:`SparseBuffer` (the pieces of a file
fetched so far) to the parser of its format, one per module, and adds the
ranges exifread still lacks; the result's ``needs`` say what to fetch next.
A JPEG, PNG or WebP without an EXIF thumbnail also gets the web perceptual
hash of its top band (:mod:`band`), and its ``needs`` the bytes that band
lacks, so the one adaptive plan fetches them for the crawler and the
eval harness alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from crawler.fingerprint.band import BAND_FORMATS, Band, assess_band
from crawler.fingerprint.dimensions import read_dimensions
from crawler.fingerprint.exif import ExifScan, scan_exif
from crawler.fingerprint.formats import gif, heic, jpeg, png, tiff, webp
from crawler.fingerprint.layout import CONTENT_BYTES, Layout, merge_needs
from crawler.fingerprint.ranges import Range
from crawler.fingerprint.sniff import sniff_format
from crawler.fingerprint.sparse import SparseBuffer
from crawler.settings import FINGERPRINT_DEFAULTS

Parser = Callable[[SparseBuffer, int], Layout]

PARSERS: dict[str, Parser] = {
    "jpeg": jpeg.parse,
    "png": png.parse,
    "gif": gif.parse,
    "webp": webp.parse,
    "tiff": tiff.parse,
    "heic": heic.parse,
    "heif": heic.parse,
    "avif": heic.parse,
}

# Formats whose EXIF exifread finds by offsets it reads from the file: its
# own misses are followed. (Its PNG reader walks every chunk to the end of a
# file without eXIf, and its WebP reader every chunk: too many round trips.)
EXIFREAD_FOLLOWED = frozenset({"jpeg", "tiff", "heic", "heif", "avif"})
_SNIFF_BYTES = 16


def analyze(
    buffer: SparseBuffer,
    content_bytes: int = CONTENT_BYTES,
    whole_file_bytes: int = FINGERPRINT_DEFAULTS.whole_file_bytes,
) -> Layout:
    """The layout of the file as far as the buffer tells, and the ranges still needed.

    ``whole_file_bytes`` is the web perceptual hash's setting (see :func:`assess_band`).
    """
    head = buffer.prefix()
    fmt = sniff_format(head)
    if fmt is None:
        missing = buffer.missing(0, _SNIFF_BYTES)
        return Layout(format=None, needs=tuple(missing))
    parser = PARSERS.get(fmt)
    exif = scan_exif(buffer)  # one exifread pass gives the tags, the thumbnail and what it lacked
    if parser is None:
        dims = read_dimensions(head)
        return Layout(
            format=fmt, width=dims[0] if dims else None, height=dims[1] if dims else None,
            exif=exif.tags, thumbnail=exif.thumbnail,
        )
    layout = parser(buffer, content_bytes)
    misses = exif.misses if fmt in EXIFREAD_FOLLOWED else ()
    band = _band(buffer, fmt, layout, exif, misses, whole_file_bytes)
    return dataclasses.replace(
        layout,
        format=fmt,
        needs=merge_needs(layout.needs, misses, band.needs),
        exif=exif.tags,
        thumbnail=exif.thumbnail,
        band=band.hash,
    )


def _band(
    buffer: SparseBuffer, fmt: str, layout: Layout, exif: ExifScan, misses: tuple[Range, ...], whole_file_bytes: int
) -> Band:
    """The band hash of a picture without an EXIF thumbnail, once the EXIF is known to hold none.

    While EXIF bytes are missing the thumbnail may still be in them: the band
    waits, so that a camera file is not charged for a band it will not use.
    """
    if fmt not in BAND_FORMATS or exif.thumbnail is not None or misses:
        return Band(None)
    if any(buffer.missing(start, end - start) for start, end in layout.exif_ranges):
        return Band(None)
    return assess_band(buffer, fmt, whole_file_bytes)
