"""GIF: header, logical screen, color tables, and the first image's data.

Width and height are the logical screen's (what Pillow reports). Extension
blocks (comments, XMP, application data, graphic control) before the first
image are skipped sub-block by sub-block; GIF has no EXIF.

The content hash covers the logical screen descriptor, the global color
table, the first image descriptor, its local color table, the LZW code size
and the first K bytes of its data (sub-block payloads, without the lengths).
"""

from __future__ import annotations

from crawler.fingerprint.layout import Draft, Layout, digest
from crawler.fingerprint.sparse import NeedBytes, SparseBuffer

_EXTENSION, _IMAGE = 0x21, 0x2C


def parse(buffer: SparseBuffer, content_bytes: int) -> Layout:
    draft = Draft("gif")
    with draft.wants():
        screen = buffer.get(6, 7)
        if len(screen) == 7:
            draft.size(int.from_bytes(screen[0:2], "little"), int.from_bytes(screen[2:4], "little"))
            _images(buffer, draft, screen, content_bytes)
    return draft.finish(buffer)


def _table_size(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _images(buffer: SparseBuffer, draft: Draft, screen: bytes, content_bytes: int) -> None:
    """Find the first image, note its offset and interlacing, and hash it."""
    table_end = 13 + _table_size(screen[4])
    draft.need(13, table_end)
    pos = _first_image(buffer, draft, table_end)
    descriptor = buffer.get(pos, 10) if pos >= 0 else b""
    if len(descriptor) < 10:
        return
    draft.progressive = bool(descriptor[9] & 0x40)
    data_start = pos + 10 + _table_size(descriptor[9])
    draft.image_data_offset = data_start
    draft.need(pos, data_start + 1)
    head = [screen, buffer.get(13, table_end - 13), descriptor, buffer.get(pos + 10, data_start + 1 - pos - 10)]
    data = _gather(buffer, draft, data_start + 1, content_bytes)
    if data is not None:
        draft.content_sha256 = digest("gif", [*head, data])


def _first_image(buffer: SparseBuffer, draft: Draft, pos: int) -> int:
    """Offset of the first image descriptor, skipping extensions; -1 if none (yet)."""
    while True:  # each step moves past at least one held byte, so the walk ends
        introducer = buffer.get(pos, 2)
        if len(introducer) < 2 or introducer[0] not in (_EXTENSION, _IMAGE):
            return -1
        if introducer[0] == _IMAGE:
            return pos
        try:
            pos = _skip_blocks(buffer, pos + 2)
        except NeedBytes as need:
            draft.walk_to(need.ranges[0][0], need.ranges)
            return -1
        if pos < 0:
            return -1


def _skip_blocks(buffer: SparseBuffer, pos: int) -> int:
    """Offset after a sub-block sequence (its zero terminator); -1 if the file ends first."""
    while True:
        size = buffer.get(pos, 1)
        if not size:
            return -1
        pos += 1 + size[0]
        if size[0] == 0:
            return pos


def _gather(buffer: SparseBuffer, draft: Draft, pos: int, limit: int) -> bytes | None:
    """Up to ``limit`` bytes of sub-block payload; None (and a need) when bytes are missing."""
    collected = bytearray()
    while len(collected) < limit:
        try:
            size = buffer.get(pos, 1)
            if not size or size[0] == 0:
                break
            collected += buffer.get(pos + 1, size[0])
        except NeedBytes:
            remaining = limit - len(collected)
            draft.need(pos, pos + remaining + remaining // 255 + 2)  # the rest, with block lengths
            return None
        pos += 1 + size[0]
    return bytes(collected[:limit])
