"""Decode the top rows of a picture from the bytes held of its file, and say which rows are real.

For the web perceptual hash (:mod:`crawler.fingerprint.band`).

JPEG: the walk keeps the segments that define the picture (frame, tables,
restart interval, Adobe transform), skips the rest (EXIF, ICC, XMP), and
hands Pillow those segments, the scan data held after the first SOS and an
EOI. libjpeg then decodes what the data holds and leaves the rest mid-grey
(128): rows are real down to the first grey MCU row (found on the right edge,
which the last, partial MCU row does not reach). A progressive file gives
the whole picture once its first scan is in. Decoding runs at a reduced DCT
scale (``Image.draft``), the 1/8 scale being the DC coefficients alone.

PNG (not interlaced): the IDAT data held is inflated up to the rows wanted,
and those rows are written out again as a complete, smaller PNG for Pillow,
so the count of real rows is exact. Interlaced PNG and WebP decode only from
the whole file (Pillow decodes neither from a part).

Nothing here is fetched or stored; the caller gets a :class:`Partial`, or the
ranges it lacks (empty when no more bytes would help).
"""

from __future__ import annotations

import io
import math
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from crawler.fingerprint.ranges import Range
from crawler.fingerprint.sniff import sniff_format
from crawler.fingerprint.sparse import SparseBuffer

if TYPE_CHECKING:  # NumPy is imported when a JPEG is decoded: not by every command at start-up
    import numpy as np
    import numpy.typing as npt

DRAFT_WIDTH = 64  # decode at the smallest DCT scale still this wide: pHash looks at 32 columns
MAX_PIXELS = 80_000_000  # refuse absurd frame sizes before any pixel is allocated
_GREY = 128
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_KEPT = _SOF | {0xC4, 0xCC, 0xDB, 0xDD, 0xEE}  # SOFn, DHT, DAC, DQT, DRI, APP14 (Adobe colour transform)
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_MAX_SEGMENTS = 1024
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_MAX_CHUNKS = 10_000
_PNG_KEPT = (b"IHDR", b"PLTE", b"tRNS")


@dataclass(frozen=True)
class Partial:
    """The decoded top of a picture, at the decode's scale."""

    image: Image.Image  # grey levels; rows below ``rows`` are not real
    width: int
    height: int
    rows: int  # real rows from the top
    how: str  # jpeg_baseline, jpeg_progressive, png, webp, ...
    data_start: int  # file offset of the image data
    data_end: int  # one past the last image-data byte used


def decode(buffer: SparseBuffer, fmt: str | None, band_ratio: float) -> Partial | list[Range]:
    fmt = fmt or sniff_format(buffer.contiguous(0, 16))
    complete = buffer.total is not None and len(buffer.contiguous(0, buffer.total)) >= buffer.total
    if fmt == "jpeg":
        return _jpeg(buffer, complete)
    if fmt == "png" and not complete:
        return _png(buffer, band_ratio)
    if complete and fmt is not None:
        return _whole(buffer.contiguous(0, buffer.total or 0), fmt)
    return []


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = Image.open(io.BytesIO(data))
    if image.width <= 0 or image.height <= 0 or image.width * image.height > MAX_PIXELS:
        raise ValueError("frame size out of range")
    return image


def _grey(image: Image.Image) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            image = image.convert("RGBA")
            backdrop = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(backdrop, image)
        return image.convert("L")


def _whole(data: bytes, fmt: str) -> Partial:
    image = _open(data)
    if fmt == "jpeg":
        image.draft("L", (DRAFT_WIDTH, 1))
    grey = _grey(image)
    return Partial(grey, grey.width, grey.height, grey.height, fmt, 0, len(data))


def _jpeg(buffer: SparseBuffer, complete: bool) -> Partial | list[Range]:
    walked = _jpeg_walk(buffer)
    if isinstance(walked, list):
        return walked
    segments, data_start, progressive = walked
    data = _whole_segments(buffer.contiguous(data_start, 1 << 40))
    image = _open(b"\xff\xd8" + segments + data + b"\xff\xd9")
    image.draft("L", (DRAFT_WIDTH, 1))
    image.load()
    rows = image.height if complete else _real_rows(_pixels(image))
    grey = _grey(image)
    how = "jpeg_progressive" if progressive else "jpeg_baseline"
    return Partial(grey, grey.width, grey.height, rows, how, data_start, data_start + len(data))


def _jpeg_walk(buffer: SparseBuffer) -> tuple[bytes, int, bool] | list[Range]:
    """(kept segments through the SOS header, where the scan data starts, progressive) or the ranges lacking."""
    if buffer.contiguous(0, 2) != b"\xff\xd8":
        return []
    pos, progressive = 2, False
    kept: list[bytes] = []
    missing: list[Range] = []
    for _ in range(_MAX_SEGMENTS):
        head = buffer.contiguous(pos, 4)
        if len(head) < 4:
            if buffer.total is not None and pos + 4 > buffer.total:
                return []
            return missing + [(pos, max(pos + 4, 2 * pos))]  # read ahead: headers chain
        if head[0] != 0xFF:
            return []
        marker, length = head[1], int.from_bytes(head[2:4], "big")
        if marker == 0xFF or marker in _STANDALONE:
            pos += 1 if marker == 0xFF else 2
            continue
        if marker == 0xD9 or length < 2:
            return []
        end = pos + 2 + length
        if marker in _KEPT or marker == 0xDA:
            segment = buffer.contiguous(pos, end - pos)
            if len(segment) < end - pos:
                missing.append((pos, end))
            kept.append(segment)
            progressive = progressive or marker in (0xC2, 0xC6, 0xCA, 0xCE)
        if marker == 0xDA:
            return missing if missing else (b"".join(kept), end, progressive)
        pos = end
    return []


def _whole_segments(data: bytes) -> bytes:
    """The scan data cut before a marker segment it holds only part of (a progressive file's next DHT or SOS).

    libjpeg reads a segment cut short by the EOI appended after it as a broken file; cut
    before it, the scans before decode. In entropy-coded data FF is followed by 00 or a
    restart marker, so any other FFxx is a marker.
    """
    last = None
    for last in _MARKER.finditer(data):
        pass
    if last is None:
        return data
    start = last.start()
    head = data[start : start + 4]
    if last.group()[1] == 0xD9:
        return data
    if len(head) < 4 or start + 2 + int.from_bytes(head[2:4], "big") > len(data):
        return data[:start]
    return data


def _pixels(image: Image.Image) -> npt.NDArray[np.uint8]:
    import numpy as np

    return np.asarray(image)


def _real_rows(pixels: npt.NDArray[np.uint8]) -> int:
    """Rows above the grey that libjpeg leaves where the data ran out (seen on the right edge).

    The grey is 128 in every channel; an inverted (Adobe) CMYK file shows it as 127.
    """
    import numpy as np

    edge = pixels[:, -2:]
    grey = np.all((edge == _GREY) | (edge == _GREY - 1), axis=tuple(range(1, edge.ndim)))
    if not grey[-1]:
        return int(pixels.shape[0])
    real = np.nonzero(~grey)[0]
    return int(real[-1]) + 1 if len(real) else 0


@dataclass(frozen=True)
class _PngHeader:
    ihdr: bytes
    width: int
    height: int
    row_bytes: int
    interlaced: bool


def _png(buffer: SparseBuffer, band_ratio: float) -> Partial | list[Range]:
    walked = _png_walk(buffer)
    if isinstance(walked, list):
        return walked
    header, extra, payload, data_start, data_end = walked
    if header.interlaced:
        return []
    wanted = min(header.height, math.ceil(band_ratio * header.width) + 2)
    stride = header.row_bytes + 1
    raw = zlib.decompressobj().decompress(payload, wanted * stride)
    rows = len(raw) // stride
    if rows == 0:
        blank = Image.new("L", (header.width, 1))
        return Partial(blank, header.width, header.height, 0, "png", data_start, data_end)
    small = _png_bytes(header, rows, extra, zlib.compress(raw[: rows * stride], 1))
    grey = _grey(_open(small))
    return Partial(grey, header.width, header.height, rows, "png", data_start, data_end)


def _png_walk(buffer: SparseBuffer) -> tuple[_PngHeader, list[tuple[bytes, bytes]], bytes, int, int] | list[Range]:
    """(header, PLTE/tRNS chunks, IDAT payload held, data start, data end), or the ranges lacking."""
    if buffer.contiguous(0, 8) != b"\x89PNG\r\n\x1a\n":
        return []
    pos, header, start = 8, None, -1
    extra: list[tuple[bytes, bytes]] = []
    payload: list[bytes] = []
    for _ in range(_MAX_CHUNKS):
        head = buffer.contiguous(pos, 8)
        if len(head) < 8:
            break
        length, kind = int.from_bytes(head[:4], "big"), head[4:8]
        if kind == b"IEND" or (start >= 0 and kind != b"IDAT"):
            break
        body = buffer.contiguous(pos + 8, length) if kind in (b"IDAT", *_PNG_KEPT) else b""
        if kind == b"IDAT":
            start = pos + 8 if start < 0 else start
            payload.append(body)
            if len(body) < length:
                return _png_result(header, extra, payload, start, pos + 8 + len(body))
        elif kind in _PNG_KEPT and len(body) < length:
            return [(pos, pos + 12 + length)]
        elif kind == b"IHDR":
            header = _png_header(body)
        elif kind in _PNG_KEPT:
            extra.append((kind, body))
        pos += 12 + length
    if start < 0:
        return [] if len(buffer.contiguous(pos, 8)) == 8 else [(pos, 2 * pos + 8)]
    return _png_result(header, extra, payload, start, pos)


def _png_result(
    header: _PngHeader | None, extra: list[tuple[bytes, bytes]], payload: list[bytes], start: int, end: int
) -> tuple[_PngHeader, list[tuple[bytes, bytes]], bytes, int, int] | list[Range]:
    if header is None:
        return []
    return header, extra, b"".join(payload), start, end


def _png_header(body: bytes) -> _PngHeader | None:
    if len(body) != 13:
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
    if colour not in _CHANNELS or width == 0 or height == 0 or width * height > MAX_PIXELS:
        return None
    row_bytes = math.ceil(width * _CHANNELS[colour] * depth / 8)
    return _PngHeader(body, width, height, row_bytes, interlace == 1)


def _png_bytes(header: _PngHeader, rows: int, extra: list[tuple[bytes, bytes]], idat: bytes) -> bytes:
    """A complete PNG of the first ``rows`` rows."""
    ihdr = header.ihdr[:4] + rows.to_bytes(4, "big") + header.ihdr[8:]
    chunks = [(b"IHDR", ihdr), *extra, (b"IDAT", idat), (b"IEND", b"")]
    out = [b"\x89PNG\r\n\x1a\n"]
    for kind, body in chunks:
        out.append(len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big"))
    return b"".join(out)
