"""ISO base media file format (ISO/IEC 14496-12) boxes, read from bytes in memory.

HEIF/HEIC and AVIF keep their structure in a ``meta`` box that is fetched
whole (a few kilobytes), then parsed here. :class:`Cursor` reads big-endian
integers and raises :class:`Truncated` (a ``ValueError``) when the data ends,
so every box parser checks lengths by construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


class Truncated(ValueError):
    """The box ends before the field being read."""


class Cursor:
    """Big-endian reads over ``data[pos:end]``."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else min(end, len(data))

    @property
    def left(self) -> int:
        return self.end - self.pos

    def take(self, length: int) -> bytes:
        if length < 0 or length > self.left:
            raise Truncated(f"wanted {length} bytes, {self.left} left")
        self.pos += length
        return self.data[self.pos - length : self.pos]

    def uint(self, size: int) -> int:
        """An unsigned integer of ``size`` bytes (0 bytes reads as 0)."""
        return int.from_bytes(self.take(size), "big") if size else 0

    def full_box(self) -> tuple[int, int]:
        """(version, flags) of a full box."""
        return self.uint(1), self.uint(3)


@dataclass(frozen=True)
class Box:
    """A box's type and where its header and payload lie (offsets into the same data)."""

    kind: bytes
    start: int
    body: int
    end: int


def header(head: bytes, start: int, limit: int | None) -> Box | None:
    """The box whose header bytes (8 or 16) are ``head``, at ``start``; None if malformed.

    ``limit`` is where the enclosing box or the file ends (size 0 means "to
    there"); None when unknown, in which case a size-0 box is refused.
    """
    if len(head) < 8:
        return None
    size, kind = int.from_bytes(head[:4], "big"), head[4:8]
    body = start + 8
    if size == 1:
        if len(head) < 16:
            return None
        size, body = int.from_bytes(head[8:16], "big"), start + 16
    elif size == 0:
        if limit is None:
            return None
        size = limit - start
    if size < body - start or (limit is not None and start + size > limit):
        return None
    return Box(kind, start, body, start + size)


def children(data: bytes, start: int, end: int) -> Iterator[Box]:
    """The boxes in ``data[start:end]``, stopping at the first malformed one."""
    pos = start
    while pos + 8 <= end:
        box = header(data[pos : pos + 16], pos, end)
        if box is None:
            return
        yield box
        pos = box.end


def find(data: bytes, start: int, end: int, kind: bytes) -> Box | None:
    return next((box for box in children(data, start, end) if box.kind == kind), None)
