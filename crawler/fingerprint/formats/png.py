"""PNG: walk the chunks from IHDR to the first K bytes of image data.

Metadata chunks (tEXt, iTXt, zTXt, eXIf, iCCP, ...) come before or after the
IDAT chunks; the walk reads only their headers, except eXIf, which it
fetches. It stops once K bytes of IDAT payload are known or the IDAT run
ends: an eXIf chunk after the image data (allowed by the 2003 extensions,
"before IDAT" since PNG 3) is not chased through the whole file.

The content hash covers IHDR, PLTE, tRNS and the first K bytes of the
concatenated IDAT payloads: what a metadata stripper keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.fingerprint.layout import Draft, Layout, digest
from crawler.fingerprint.sparse import NeedBytes, SparseBuffer

_MAX_CHUNKS = 100_000
_MAX_LENGTH = (1 << 31) - 1  # the spec's limit on a chunk's length
_PICTURE = (b"IHDR", b"PLTE", b"tRNS")


@dataclass
class _Content:
    """The content-hash input gathered so far; ``whole`` turns false on a gap."""

    remaining: int
    parts: list[bytes] = field(default_factory=list)
    whole: bool = True

    def add(self, buffer: SparseBuffer, draft: Draft, start: int, length: int) -> None:
        draft.need(start, start + length)
        try:
            self.parts.append(buffer.get(start, length))
        except NeedBytes:
            self.whole = False


def parse(buffer: SparseBuffer, content_bytes: int) -> Layout:
    draft = Draft("png")
    content = _Content(content_bytes)
    if _walk(buffer, draft, content) and content.whole:
        draft.content_sha256 = digest("png", content.parts)
    return draft.finish(buffer)


def _walk(buffer: SparseBuffer, draft: Draft, content: _Content) -> bool:
    """Chunks up to the end of the content input; True when it was reached."""
    pos = 8
    for _ in range(_MAX_CHUNKS):
        head = draft.header(buffer, pos, 8)
        if head is None:
            return False
        length, kind = int.from_bytes(head[:4], "big"), head[4:8]
        if len(head) < 8 or length > _MAX_LENGTH or kind == b"IEND":
            return draft.image_data_offset is not None
        if kind != b"IDAT" and draft.image_data_offset is not None:
            return True  # the IDAT run is over
        _chunk(buffer, draft, content, kind, (pos + 8, length))
        if content.remaining <= 0:
            return True
        pos += 12 + length
    return False


def _chunk(buffer: SparseBuffer, draft: Draft, content: _Content, kind: bytes, body: tuple[int, int]) -> None:
    start, length = body
    if kind == b"IHDR":
        with draft.wants():
            _header(draft, buffer.get(start, 13))
    if kind in _PICTURE:
        content.add(buffer, draft, start, length)
    elif kind == b"eXIf":
        draft.exif(start, start + length)
    elif kind == b"IDAT":
        if draft.image_data_offset is None:
            draft.image_data_offset = start
        take = min(length, content.remaining)
        content.add(buffer, draft, start, take)
        content.remaining -= take


def _header(draft: Draft, ihdr: bytes) -> None:
    if len(ihdr) == 13:
        draft.size(int.from_bytes(ihdr[0:4], "big"), int.from_bytes(ihdr[4:8], "big"))
        draft.progressive = ihdr[12] == 1  # Adam7 interlace
