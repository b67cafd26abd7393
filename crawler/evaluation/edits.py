"""Byte-level metadata edits of JPEG and PNG files, for the variant sets.

Each edit leaves the bytes that define the picture untouched and changes
only metadata, the way a metadata stripper, an EXIF editor or a comment tool
does, so a content fingerprint must still match the result and a prefix hash
must not:

- :func:`strip_metadata`: JPEG without APP1..APP15 and COM segments (APP0/JFIF
  kept, and an Adobe APP14, which says how to decode the colours); PNG
  without tEXt, zTXt, iTXt, eXIf and tIME chunks;
- :func:`edit_exif`: one byte changed inside a string tag of the EXIF's
  first IFD (DateTime, Make, Model or Software), every size kept;
- :func:`add_comment`: a JPEG COM segment after SOI (and APP0), or a PNG tEXt
  chunk before the first IDAT;
- :func:`replace_thumbnail`: a new EXIF thumbnail, appended to the EXIF block
  and pointed to from IFD1 (the old one is left as dead bytes).

An edit that does not apply raises :class:`NotApplicable` with the reason.
Files are assumed well-formed enough to walk; a malformed one is not applicable.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

COMMENT = b"crawler eval: comment added"
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})
_APP0, _APP1, _APP14, _APP15, _COM, _SOS = 0xE0, 0xE1, 0xEE, 0xEF, 0xFE, 0xDA
_PNG_METADATA = frozenset({b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"})
_EXIF_HEADER = b"Exif\x00\x00"
_STRING_TAGS = (0x0132, 0x010F, 0x0110, 0x0131)  # DateTime, Make, Model, Software
_THUMBNAIL_OFFSET, _THUMBNAIL_LENGTH = 0x0201, 0x0202
_ASCII, _LONG = 2, 4
_RESYNC_BYTES = 4096

Segment = tuple[int, int, int]  # JPEG marker, start, end


class NotApplicable(Exception):
    """The edit does not apply to this file; the message says why."""


def strip_metadata(data: bytes, image_format: str) -> bytes:
    if image_format == "jpeg":
        segments, sos = _jpeg_segments(data)
        kept = b"".join(data[s:e] for m, s, e in segments if not _jpeg_metadata(data, m, s))
        stripped = b"\xff\xd8" + kept + data[sos:]
    elif image_format == "png":
        stripped = data[:8] + b"".join(data[s:e] for kind, s, e in _png_chunks(data) if kind not in _PNG_METADATA)
    else:
        raise NotApplicable(f"{image_format}: byte-level edits only for JPEG and PNG")
    if stripped == data:
        raise NotApplicable("no metadata to strip")
    return stripped


def add_comment(data: bytes, image_format: str) -> bytes:
    if image_format == "jpeg":
        segments, _ = _jpeg_segments(data)
        at = segments[0][2] if segments and segments[0][0] == _APP0 else 2
        return data[:at] + b"\xff\xfe" + struct.pack(">H", len(COMMENT) + 2) + COMMENT + data[at:]
    if image_format == "png":
        idat = next((s for kind, s, _ in _png_chunks(data) if kind == b"IDAT"), None)
        if idat is None:
            raise NotApplicable("no IDAT chunk")
        return data[:idat] + _png_chunk(b"tEXt", b"Comment\x00" + COMMENT) + data[idat:]
    raise NotApplicable(f"{image_format}: byte-level edits only for JPEG and PNG")


def edit_exif(data: bytes, image_format: str) -> bytes:
    if image_format == "jpeg":
        start, end = _jpeg_exif(data)
        return data[:start] + _edit_string_tag(data[start:end]) + data[end:]
    if image_format == "png":
        chunk = next(((s, e) for kind, s, e in _png_chunks(data) if kind == b"eXIf"), None)
        if chunk is None:
            raise NotApplicable("no EXIF")
        start, end = chunk
        edited = _edit_string_tag(data[start + 8 : end - 4])
        return data[:start] + _png_chunk(b"eXIf", edited) + data[end:]
    raise NotApplicable(f"{image_format}: byte-level edits only for JPEG and PNG")


def replace_thumbnail(data: bytes, thumbnail: bytes) -> bytes:
    """The JPEG with its EXIF thumbnail replaced by ``thumbnail`` (a JPEG)."""
    start, end = _jpeg_exif(data)
    tiff = bytearray(data[start:end])
    order = _byte_order(tiff)
    entries = {tag: at for tag, kind, _, at in _ifd_entries(tiff, order, _ifd1(tiff, order)) if kind == _LONG}
    if _THUMBNAIL_OFFSET not in entries or _THUMBNAIL_LENGTH not in entries:
        raise NotApplicable("no EXIF thumbnail")
    struct.pack_into(order + "I", tiff, entries[_THUMBNAIL_OFFSET] + 8, len(tiff))
    struct.pack_into(order + "I", tiff, entries[_THUMBNAIL_LENGTH] + 8, len(thumbnail))
    payload = _EXIF_HEADER + bytes(tiff) + thumbnail
    if len(payload) + 2 > 0xFFFF:
        raise NotApplicable("the new thumbnail does not fit in the EXIF segment")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[: start - 10] + segment + data[end:]


def _jpeg_segments(data: bytes) -> tuple[list[Segment], int]:
    """(marker, start, end) of every segment between SOI and the first SOS, and the SOS offset."""
    if data[:2] != b"\xff\xd8":
        raise NotApplicable("not a JPEG")
    segments: list[Segment] = []
    pos = 2
    while pos + 4 <= len(data):
        marker = data[pos + 1]
        if data[pos] != 0xFF:  # garbage between segments: skip to the next FF, as decoders do
            pos = data.find(b"\xff", pos, pos + _RESYNC_BYTES)
            if pos < 0:
                break
        elif marker == 0xFF or marker in _JPEG_STANDALONE:
            pos += 1 if marker == 0xFF else 2
        elif marker == _SOS:
            return segments, pos
        else:
            end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
            segments.append((marker, pos, end))
            pos = end
    raise NotApplicable("JPEG segments do not lead to a start of scan")


def _jpeg_metadata(data: bytes, marker: int, start: int) -> bool:
    if marker == _APP14 and data[start + 4 : start + 9] == b"Adobe":
        return False
    return _APP1 <= marker <= _APP15 or marker == _COM


def _jpeg_exif(data: bytes) -> tuple[int, int]:
    """Offsets of the TIFF block inside the EXIF APP1 segment."""
    for marker, start, end in _jpeg_segments(data)[0]:
        if marker == _APP1 and data[start + 4 : start + 10] == _EXIF_HEADER:
            return start + 10, end
    raise NotApplicable("no EXIF")


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of every chunk, CRC included, up to IEND."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise NotApplicable("not a PNG")
    chunks, pos = [], 8
    while pos + 12 <= len(data):
        kind, end = data[pos + 4 : pos + 8], pos + 12 + int.from_bytes(data[pos : pos + 4], "big")
        chunks.append((kind, pos, end))
        if kind == b"IEND":
            return chunks
        pos = end
    raise NotApplicable("PNG chunks do not lead to IEND")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _edit_string_tag(tiff: bytes) -> bytes:
    """The TIFF block with the first byte of a string tag of IFD0 changed."""
    order = _byte_order(tiff)
    entries = {tag: (kind, count, at) for tag, kind, count, at in _ifd_entries(tiff, order, _ifd0(tiff, order))}
    for tag in _STRING_TAGS:
        kind, count, at = entries.get(tag, (0, 0, 0))
        if kind != _ASCII or count < 2:
            continue
        where = at + 8 if count <= 4 else struct.unpack_from(order + "I", tiff, at + 8)[0]
        if where < len(tiff) and tiff[where] > 0x20:
            edited = bytearray(tiff)
            edited[where] = _another_character(tiff[where])
            return bytes(edited)
    raise NotApplicable("no DateTime, Make, Model or Software string in IFD0")


def _another_character(byte: int) -> int:
    if 0x30 <= byte <= 0x39:  # a digit stays a digit: the DateTime stays well-formed
        return 0x30 + (byte - 0x30 + 1) % 10
    return ord("X") if byte != ord("X") else ord("Y")


def _byte_order(tiff: bytes | bytearray) -> str:
    if tiff[:2] == b"II":
        return "<"
    if tiff[:2] == b"MM":
        return ">"
    raise NotApplicable("EXIF without a TIFF header")


def _ifd0(tiff: bytes | bytearray, order: str) -> int:
    return int(struct.unpack_from(order + "I", tiff, 4)[0])


def _ifd1(tiff: bytes | bytearray, order: str) -> int:
    ifd0 = _ifd0(tiff, order)
    ifd1 = int(struct.unpack_from(order + "I", tiff, ifd0 + 2 + 12 * _entry_count(tiff, order, ifd0))[0])
    if ifd1 == 0:
        raise NotApplicable("no EXIF thumbnail")
    return ifd1


def _entry_count(tiff: bytes | bytearray, order: str, ifd: int) -> int:
    if not 8 <= ifd <= len(tiff) - 2:
        raise NotApplicable("EXIF IFD outside the EXIF block")
    count = int(struct.unpack_from(order + "H", tiff, ifd)[0])
    if ifd + 2 + 12 * count + 4 > len(tiff):
        raise NotApplicable("EXIF IFD runs past the EXIF block")
    return count


def _ifd_entries(tiff: bytes | bytearray, order: str, ifd: int) -> Iterator[tuple[int, int, int, int]]:
    """(tag, type, count, entry offset) of each entry of the IFD at ``ifd``."""
    for index in range(_entry_count(tiff, order, ifd)):
        at = ifd + 2 + 12 * index
        tag, kind, count = struct.unpack_from(order + "HHI", tiff, at)
        yield tag, kind, count, at
