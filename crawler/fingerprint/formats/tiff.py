"""TIFF: the header, the IFD chain and the first strip (or tile) of the first image.

The header points at IFD0, which may lie anywhere (scanners and converters
often write it after the pixels, at the end of the file). IFD0 gives the
size, the pixel format and where the first strip or tile starts; the EXIF is
the IFD structure itself (see :mod:`crawler.fingerprint.formats.ifd`). BigTIFF (magic 43)
is recognised but not walked.

The content hash covers width, height, bits per sample, compression and
photometric interpretation, and the first K bytes of the first strip (at most
its byte count): the pixels, wherever a rewriter moved them.
"""

from __future__ import annotations

from crawler.fingerprint.formats.ifd import Entry, IfdReader, walk_exif
from crawler.fingerprint.layout import Draft, Layout, digest
from crawler.fingerprint.sparse import SparseBuffer

_WIDTH, _HEIGHT, _BITS, _COMPRESSION, _PHOTOMETRIC = 0x100, 0x101, 0x102, 0x103, 0x106
_STRIPS = ((0x111, 0x117), (0x144, 0x145))  # (offsets, byte counts) for strips, then tiles
_PIXEL_FORMAT = (_WIDTH, _HEIGHT, _BITS, _COMPRESSION, _PHOTOMETRIC)


def parse(buffer: SparseBuffer, content_bytes: int) -> Layout:
    draft = Draft("tiff")
    with draft.wants():
        header = buffer.get(0, 8)
        if len(header) == 8 and header[:4] in (b"II*\x00", b"MM\x00*"):
            reader = IfdReader(buffer, 0, little_endian=header[0] == ord("I"))
            draft.exif(0, 8)
            ifd0 = walk_exif(reader, draft, reader.uint(4, 4) or 0)
            _describe(reader, draft, ifd0, content_bytes)
    return draft.finish(buffer)


def _describe(reader: IfdReader, draft: Draft, ifd0: dict[int, Entry], content_bytes: int) -> None:
    """Size, first strip and content hash from IFD0's entries."""
    with draft.wants():
        draft.size(_value(reader, ifd0, _WIDTH) or 0, _value(reader, ifd0, _HEIGHT) or 0)
    for offsets, counts in _STRIPS:
        if offsets in ifd0:
            with draft.wants():
                _first_strip(reader, draft, ifd0, (offsets, counts), content_bytes)
            return


def _first_strip(
    reader: IfdReader, draft: Draft, ifd0: dict[int, Entry], tags: tuple[int, int], content_bytes: int
) -> None:
    start = _value(reader, ifd0, tags[0])
    if start is None:
        return
    draft.image_data_offset = start
    length = min(content_bytes, _value(reader, ifd0, tags[1]) or content_bytes)
    draft.need(start, start + length)
    fields = [_all_values(reader, ifd0, tag) for tag in _PIXEL_FORMAT]
    draft.content_sha256 = digest("tiff", [*fields, reader.buffer.get(start, length)])


def _value(reader: IfdReader, entries: dict[int, Entry], tag: int) -> int | None:
    entry = entries.get(tag)
    return reader.first_value(entry) if entry is not None else None


def _all_values(reader: IfdReader, entries: dict[int, Entry], tag: int) -> bytes:
    """The entry's raw value bytes in big-endian order per value (b"" when absent)."""
    entry = entries.get(tag)
    if entry is None or entry.size > 64:
        return b""
    raw = reader.buffer.get(entry.value_at, entry.size)
    width = entry.size // max(entry.count, 1)
    values = [raw[i : i + width] for i in range(0, len(raw), width)] if width else []
    return b"".join(v if reader.order == "big" else v[::-1] for v in values)
