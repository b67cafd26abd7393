"""WebP: walk the RIFF chunks to the bitstream, and on to EXIF when VP8X says so.

Simple files hold one VP8 (lossy) or VP8L (lossless) chunk; extended files
start with VP8X (canvas size and flags), then ICCP, ANIM/ANMF or ALPH, the
bitstream, and EXIF and XMP after it. The walk stops after the bitstream
unless the VP8X flags announce EXIF.

The content hash covers the first K bytes of the alpha and bitstream chunks
(for an animation, of the first frame), which begin with the frame's size.
The VP8X canvas is left out on purpose: a stripper that drops ICC and EXIF
may also turn an extended file into a simple one, without VP8X.
"""

from __future__ import annotations

from crawler.fingerprint.layout import Draft, Layout, digest
from crawler.fingerprint.sparse import NeedBytes, SparseBuffer

_BITSTREAMS = (b"VP8 ", b"VP8L", b"ANMF")
_EXIF_FLAG = 0x08
_MAX_CHUNKS = 100_000


def parse(buffer: SparseBuffer, content_bytes: int) -> Layout:
    draft = Draft("webp")
    parts: list[bytes] = []
    if _walk(buffer, draft, parts, content_bytes) and parts:
        draft.content_sha256 = digest("webp", parts)
    return draft.finish(buffer)


def _walk(buffer: SparseBuffer, draft: Draft, parts: list[bytes], content_bytes: int) -> bool:
    """Chunks up to the bitstream (and EXIF if flagged); True when the content input is whole."""
    pos, wants_exif, whole, done = 12, False, True, False
    for _ in range(_MAX_CHUNKS):
        head = draft.header(buffer, pos, 8)
        if head is None:
            return False
        if len(head) < 8:
            return done and whole
        kind, size = head[:4], int.from_bytes(head[4:8], "little")
        body = pos + 8
        if kind == b"VP8X":
            wants_exif = _extended(buffer, draft, body)
        elif kind == b"EXIF":
            draft.exif(body, body + size)
            wants_exif = False
        elif kind in (b"ALPH", *_BITSTREAMS) and not done:
            whole = _bitstream(buffer, draft, kind, (body, size), parts, content_bytes) and whole
            done = kind != b"ALPH"
        if done and not wants_exif:
            return whole
        pos = body + size + (size & 1)
    return False


def _extended(buffer: SparseBuffer, draft: Draft, body: int) -> bool:
    """Canvas size from VP8X; True when its flags announce EXIF."""
    with draft.wants():
        data = buffer.get(body, 10)
        if len(data) == 10:
            draft.size(1 + int.from_bytes(data[4:7], "little"), 1 + int.from_bytes(data[7:10], "little"))
            return bool(data[0] & _EXIF_FLAG)
    return False


def _bitstream(
    buffer: SparseBuffer, draft: Draft, kind: bytes, body: tuple[int, int], parts: list[bytes], content_bytes: int
) -> bool:
    """Note the data offset, frame size and content input; False if bytes are missing."""
    start, size = body
    if draft.image_data_offset is None:
        draft.image_data_offset = start
    take = min(size, content_bytes)
    draft.need(start, start + take)
    try:
        data = buffer.get(start, take)
    except NeedBytes:
        return False
    parts.append(kind + data)
    if draft.width is None:
        _frame_size(draft, kind, data)
    return True


def _frame_size(draft: Draft, kind: bytes, data: bytes) -> None:
    if kind == b"VP8 " and len(data) >= 10 and data[3:6] == b"\x9d\x01\x2a":
        width, height = int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
        draft.size(width & 0x3FFF, height & 0x3FFF)
    elif kind == b"VP8L" and len(data) >= 5 and data[0] == 0x2F:
        bits = int.from_bytes(data[1:5], "little")
        draft.size(1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF))
