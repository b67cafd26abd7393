"""Pure parsers for image headers: sniff the format, read dimensions and EXIF.

Every function here takes bytes that may be truncated or malformed (a prefix
of an image, or whatever a lying server sent) and never raises.

:func:`analyze` dispatches a :class:`SparseBuffer` (the pieces of a file
fetched so far) to the parser of its format, one per module, and adds the
ranges exifread still lacks; the result's ``needs`` say what to fetch next.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from crawler.fingerprint.dimensions import read_dimensions
from crawler.fingerprint.exif import scan_exif
from crawler.fingerprint.formats import gif, heic, jpeg, png, tiff, webp
from crawler.fingerprint.layout import CONTENT_BYTES, Layout, merge_needs
from crawler.fingerprint.sniff import sniff_format
from crawler.fingerprint.sparse import SparseBuffer

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


def analyze(buffer: SparseBuffer, content_bytes: int = CONTENT_BYTES) -> Layout:
    """The layout of the file as far as the buffer tells, and the ranges still needed."""
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
    return dataclasses.replace(
        layout, format=fmt, needs=merge_needs(layout.needs, misses), exif=exif.tags, thumbnail=exif.thumbnail
    )
