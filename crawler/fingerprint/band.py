"""A perceptual hash of a web image from the bytes fetched of it: the top band of its picture.

Web images carry no EXIF thumbnail, and a re-posted copy is re-encoded and
resized, so the byte hashes cannot follow it. What a prefix of the common
formats does give is the *top of the picture*: a baseline JPEG and a PNG
decode row by row, and a progressive JPEG's first scan holds the whole
picture at 1/8 scale. So the hash covers the top band of the picture, of a
height proportional to its width (:data:`BAND_RATIO`): a resized copy then
covers the same part of the picture, and a band from a baseline file, from a
progressive file's first scan or from a whole file (a WebP, which does not
decode from a prefix) are comparable. The band is hashed with the standard
pHash (imagehash) after Pillow decodes it (see :mod:`band_decode`).

A band too plain to identify a picture (sky, a white margin) would match
every other plain band: below :data:`MIN_CONTRAST` (standard deviation of
its grey levels, on the 32x32 pixels pHash looks at) the next, taller band
of :data:`FALLBACK_RATIOS` is tried, and failing that no hash is given.
Every copy of a picture takes the same decision, and the source names the
band (``top_band_8:jpeg_baseline`` is the band of height width/8 decoded
from a baseline JPEG): only hashes of the same band compare, and only
between pictures of the same aspect ratio (:func:`same_shape`).

Pure: the caller passes the :class:`SparseBuffer` of what was fetched and
gets the hash, or the ranges that would give it (which the adaptive plan
fetches within the byte cap). Nothing raises on malformed input; nothing of
the picture but the 64-bit hash leaves this module.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from PIL import Image, ImageStat

from crawler.fingerprint.band_decode import Partial, decode
from crawler.fingerprint.ranges import Range, clamp, subtract
from crawler.fingerprint.sparse import SparseBuffer
from crawler.settings import FINGERPRINT_DEFAULTS

BAND_FORMATS = frozenset({"jpeg", "png", "webp"})
BAND_RATIO = 1 / 8  # band height / picture width
FALLBACK_RATIOS = (1 / 2,)  # taller bands tried in turn when a band is too plain
MIN_CONTRAST = 10.0  # std of the band's grey levels (0-255) below which it is too plain to hash
HASH_SIDE = 32  # pHash resizes to 32x32 before its DCT; the contrast guard looks at the same pixels
FIRST_DATA_BYTES = 8192  # image data asked for when none decodes yet
MARGIN = 1.2  # on the bytes-per-row estimate, so that one more round is rarely needed
READ_AHEAD = 1024  # bytes past the estimate: the last MCU row must be complete to decode
ASPECT_TOLERANCE = 0.03  # relative: a resized copy keeps its aspect ratio up to the rounding of a small side


@dataclass(frozen=True)
class BandHash:
    value: str  # 16 hex digits
    source: str  # band:decoder, e.g. "top_band_8:jpeg_baseline"


@dataclass(frozen=True)
class Band:
    """What the bytes held give: the band's hash, or the ranges that would give it."""

    hash: BandHash | None
    needs: tuple[Range, ...] = ()  # empty: the hash is there, or no more bytes would help
    plain: bool = False  # the bands were there but too plain to hash


def assess_band(
    buffer: SparseBuffer, fmt: str | None, whole_file_bytes: int = FINGERPRINT_DEFAULTS.whole_file_bytes
) -> Band:
    """The band hash the buffer gives, or the ranges to fetch for it.

    ``whole_file_bytes``: a file at most this long is fetched whole when its
    band cannot be had otherwise or would cost as much (0: never).
    """
    try:
        return _assess(buffer, fmt, whole_file_bytes)
    except Exception:  # noqa: BLE001 - Pillow and zlib raise many kinds on damaged data: no hash, no crash
        return Band(None)


def _assess(buffer: SparseBuffer, fmt: str | None, whole_file_bytes: int) -> Band:
    ratios = (BAND_RATIO, *FALLBACK_RATIOS)
    part = decode(buffer, fmt, max(ratios))
    if not isinstance(part, Partial):
        return Band(None, _missing(buffer, _with_whole(buffer, part, None, whole_file_bytes)))
    found, contrast, lacking = _first_band(part, ratios)
    if found is not None:
        return Band(found)
    if lacking is None:
        return Band(None, plain=contrast is not None)
    return Band(None, _missing(buffer, _with_whole(buffer, _more_rows(part, lacking), part, whole_file_bytes)))


def _first_band(part: Partial, ratios: tuple[float, ...]) -> tuple[BandHash | None, float | None, float | None]:
    """(hash, contrast) of the first band, in the order given, that is not too plain; else the rows it lacks."""
    contrast = None
    for ratio in ratios:
        rows = ratio * part.width
        if part.rows < rows - 1e-6:
            return None, contrast, rows
        found, contrast = _band_hash(part, rows)
        if contrast >= MIN_CONTRAST:
            return found, contrast, None
    return None, contrast, None


def _band_hash(part: Partial, band_rows: float) -> tuple[BandHash, float]:
    """The band's hash and contrast, from the 32x32 pixels pHash looks at.

    The band is cut out before it is resized: the filter then reads no row
    below it, so the hash does not depend on how many rows past the band
    were fetched (or left grey by a partial decode).
    """
    import imagehash  # deferred: SciPy is slow to import (the crawler preloads it before forking)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = part.image.crop((0, 0, part.width, math.ceil(band_rows - 1e-6)))
        box = (0.0, 0.0, float(part.width), band_rows)
        square = rows.resize((HASH_SIDE, HASH_SIDE), Image.Resampling.LANCZOS, box=box)
    contrast = float(ImageStat.Stat(square).stddev[0])
    return BandHash(str(imagehash.phash(square)), f"top_band_{round(part.width / band_rows)}:{part.how}"), contrast


def _more_rows(part: Partial, band_rows: float) -> list[Range]:
    """The image data that should decode to ``band_rows`` rows, from the bytes per row decoded so far."""
    used = part.data_end - part.data_start
    if part.rows <= 0 or used <= 0:
        want = max(FIRST_DATA_BYTES, 2 * used)
    else:
        want = math.ceil(used * (band_rows + 1) / part.rows * MARGIN) + READ_AHEAD
    return [(part.data_end, part.data_start + want)]


def _with_whole(buffer: SparseBuffer, needs: list[Range], part: Partial | None, whole_file_bytes: int) -> list[Range]:
    """The whole file instead, when the setting allows it and the band cannot be had for less."""
    total = buffer.total
    if not whole_file_bytes or total is None or total > whole_file_bytes:
        return needs
    band_end = max((end for _, end in needs), default=0)
    if part is None or not needs or total <= band_end:
        return [(0, total)]
    return needs


def _missing(buffer: SparseBuffer, needs: list[Range]) -> tuple[Range, ...]:
    return tuple(subtract(clamp(needs, buffer.total), buffer.known))


def same_shape(first: tuple[int | None, int | None], second: tuple[int | None, int | None]) -> bool:
    """Whether two pictures (width, height) can be one picture resized: equal aspect ratios.

    A band sees only the top of a picture, and the tops of two different
    pictures (a white margin and a dark edge, a logo and a small photo) can
    hash alike; but resizing and re-encoding keep the aspect ratio, so band
    hashes of pictures whose ratios differ never match. Unknown sizes never match.
    """
    (w1, h1), (w2, h2) = first, second
    if not (w1 and h1 and w2 and h2):
        return False
    ratio, other = w1 / h1, w2 / h2
    return abs(ratio - other) <= ASPECT_TOLERANCE * max(ratio, other)
