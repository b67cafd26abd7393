"""JPEG: walk the marker segments from SOI to the first SOS.

The walk finds the frame header (size, progressive), the EXIF APP1
segment(s), the tables that define how the picture decodes, and where the
entropy-coded data starts. Camera files put up to 64 KB of EXIF, maker notes,
ICC and XMP first, so the walk often leaves the fetched prefix: it then asks
for the next segment header, and only for the segments it must read.

The content hash covers the frame header, the quantization, Huffman,
restart and arithmetic-coding tables (in file order), the SOS header and the
first K bytes of the first scan; never APPn or COM segments, so stripping,
editing or adding metadata leaves it unchanged.
"""

from __future__ import annotations

from crawler.fingerprint.layout import Draft, Layout, digest
from crawler.fingerprint.ranges import Range
from crawler.fingerprint.sparse import NeedBytes, SparseBuffer

_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_TABLES = _SOF | {0xDB, 0xC4, 0xDD, 0xCC}  # SOFn, DQT, DHT, DRI, DAC
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn: no length
_SOS, _EOI, _APP1 = 0xDA, 0xD9, 0xE1
_MAX_SEGMENTS = 4096  # a real file has tens; this bounds a malicious one
_RESYNC_BYTES = 4096  # garbage skipped between segments, at most


def parse(buffer: SparseBuffer, content_bytes: int) -> Layout:
    draft = Draft("jpeg")
    tables: list[Range] = []
    sos = _walk(buffer, draft, tables)
    if sos is not None:
        draft.image_data_offset = sos[1]
        draft.need(sos[0], sos[1] + content_bytes)
        with draft.wants():
            draft.content_sha256 = _content_hash(buffer, tables, sos, content_bytes)
    return draft.finish(buffer)


def _walk(buffer: SparseBuffer, draft: Draft, tables: list[Range]) -> Range | None:
    """Segments up to the first SOS; returns the SOS header's range, or None."""
    pos = 2
    for _ in range(_MAX_SEGMENTS):
        head = draft.header(buffer, pos, 4)
        if head is None or len(head) < 2:
            return None
        if head[0] != 0xFF:  # padding between segments: skip to the next FF, as decoders do
            pos = _resync(buffer, draft, pos)
            if pos < 0:
                return None
            continue
        marker = head[1]
        if marker == 0xFF or marker in _STANDALONE:  # fill byte, or a marker without length
            pos += 1 if marker == 0xFF else 2
            continue
        if marker == _EOI or len(head) < 4 or int.from_bytes(head[2:4], "big") < 2:
            return None
        end = pos + 2 + int.from_bytes(head[2:4], "big")
        if marker == _SOS:
            return (pos, end)
        _segment(buffer, draft, tables, marker, (pos, end))
        pos = end
    return None


def _resync(buffer: SparseBuffer, draft: Draft, pos: int) -> int:
    """Offset of the next FF byte within ``_RESYNC_BYTES``; -1 when none (or not held yet)."""
    try:
        found = buffer.get(pos, _RESYNC_BYTES).find(b"\xff")
    except NeedBytes as need:
        draft.needs.extend(need.ranges)
        return -1
    return pos + found if found >= 0 else -1


def _segment(buffer: SparseBuffer, draft: Draft, tables: list[Range], marker: int, segment: Range) -> None:
    start, end = segment
    if marker == _APP1:
        with draft.wants():
            if buffer.get(start + 4, 6) == b"Exif\x00\x00":
                draft.exif(start, end)
    if marker in _TABLES:
        tables.append(segment)
        draft.need(start, end)
    if marker in _SOF and draft.progressive is None:
        draft.progressive = marker in _PROGRESSIVE
        with draft.wants():
            frame = buffer.get(start + 5, 4)  # after length and precision: height, width
            if len(frame) == 4:
                draft.size(int.from_bytes(frame[2:4], "big"), int.from_bytes(frame[0:2], "big"))


def _content_hash(buffer: SparseBuffer, tables: list[Range], sos: Range, content_bytes: int) -> str:
    parts = [buffer.get(start, end - start) for start, end in tables]
    parts.append(buffer.get(sos[0], sos[1] - sos[0]))
    parts.append(_scan_head(buffer.get(sos[1], content_bytes)))
    return digest("jpeg", parts)


def _scan_head(data: bytes) -> bytes:
    """Entropy-coded bytes up to the first marker other than stuffing (FF00) or RSTn."""
    index = data.find(b"\xff")
    while 0 <= index < len(data) - 1:
        following = data[index + 1]
        if following != 0 and not 0xD0 <= following <= 0xD7:
            return data[:index]
        index = data.find(b"\xff", index + 2)
    return data
