"""The known byte ranges of a remote file, and a file-like view over them.

The crawler knows an image only in pieces: the prefix it fetched, then the
ranges a parser asked for. :class:`SparseBuffer` holds those pieces; asking it
for bytes it lacks raises :class:`NeedBytes`, which names the missing ranges,
so a parser can say what to fetch next instead of guessing from a truncation.

:class:`SparseReader` lets file-reading libraries (exifread, Pillow) run over
the pieces. Both let a plain ``Exception`` subclass through (they swallow
``ValueError``, ``IndexError``, ``TypeError`` and ``struct.error`` in places),
so a strict reader that raises :class:`NeedBytes` stops them at the first
missing byte. A lenient reader instead records every missing read and
answers it like a file cut short there, so one run of the library lists all
the reads that do not depend on missing bytes.
"""

from __future__ import annotations

from bisect import bisect_right

from crawler.fingerprint.ranges import Range, normalize, subtract


class NeedBytes(Exception):  # not ValueError/IndexError: parsers must not swallow it
    """Bytes the buffer lacks; ``ranges`` names them."""

    def __init__(self, ranges: list[Range]) -> None:
        super().__init__(f"missing byte ranges {ranges}")
        self.ranges = tuple(ranges)


class SparseBuffer:
    """Known pieces of a file of ``total`` bytes (None when the size is unknown)."""

    def __init__(self, total: int | None = None) -> None:
        self.total = total
        self._starts: list[int] = []
        self._pieces: list[bytes] = []

    @classmethod
    def of(cls, data: bytes, total: int | None = None) -> SparseBuffer:
        """A buffer holding ``data`` at offset 0 (the whole file when ``total`` is its length)."""
        buffer = cls(total)
        buffer.add(0, data)
        return buffer

    def add(self, offset: int, data: bytes) -> None:
        """Record that the file holds ``data`` at ``offset``."""
        if offset < 0 or not data:
            return
        merged: list[tuple[int, bytes]] = []
        start, body = offset, bytes(data)
        for s, p in zip(self._starts, self._pieces, strict=True):
            if s + len(p) < start or s > start + len(body):
                merged.append((s, p))
                continue
            first, last = min(s, start), max(s + len(p), start + len(body))
            joined = bytearray(last - first)
            joined[s - first : s - first + len(p)] = p
            joined[start - first : start - first + len(body)] = body  # newest wins
            start, body = first, bytes(joined)
        merged.append((start, body))
        merged.sort(key=lambda item: item[0])
        self._starts = [s for s, _ in merged]
        self._pieces = [p for _, p in merged]

    @property
    def known(self) -> list[Range]:
        """The ranges held, sorted and disjoint."""
        return [(s, s + len(p)) for s, p in zip(self._starts, self._pieces, strict=True)]

    @property
    def bytes_known(self) -> int:
        return sum(len(p) for p in self._pieces)

    def clamp(self, offset: int, length: int) -> Range:
        """``(offset, offset + length)`` cut at the end of the file when known."""
        end = offset + max(length, 0)
        if self.total is not None:
            end = min(end, self.total)
        return (offset, max(end, offset))

    def missing(self, offset: int, length: int) -> list[Range]:
        """The parts of the range (clamped to the file) that are not held."""
        return subtract([self.clamp(offset, length)], self.known)

    def has(self, offset: int, length: int) -> bool:
        return not self.missing(offset, length)

    def get(self, offset: int, length: int) -> bytes:
        """The bytes at ``offset`` (fewer at the end of the file); NeedBytes if not all held."""
        if offset < 0:
            return b""
        start, end = self.clamp(offset, length)
        data = self.contiguous(start, end - start)
        if len(data) < end - start:
            raise NeedBytes(self.missing(offset, length))
        return data

    def contiguous(self, offset: int, length: int) -> bytes:
        """The held bytes from ``offset`` up to the first missing one (at most ``length``)."""
        index = bisect_right(self._starts, offset) - 1
        if index < 0 or offset < 0:
            return b""
        start, piece = self._starts[index], self._pieces[index]
        return piece[offset - start : offset - start + max(length, 0)]

    def prefix(self) -> bytes:
        """The held bytes from offset 0 up to the first missing one."""
        return self._pieces[0] if self._starts[:1] == [0] else b""

    @property
    def end_known(self) -> int:
        """One past the last byte held (0 when nothing is)."""
        return self._starts[-1] + len(self._pieces[-1]) if self._starts else 0

    def reader(self, strict: bool = True) -> SparseReader:
        return SparseReader(self, strict)


class SparseReader:
    """A read-only binary file over a :class:`SparseBuffer`.

    Strict: a read that touches missing bytes raises :class:`NeedBytes`.
    Lenient: it returns the bytes held up to the first missing one, as a file
    cut there would, and records the missing part in ``misses``.
    """

    def __init__(self, buffer: SparseBuffer, strict: bool = True) -> None:
        self._buffer = buffer
        self._strict = strict
        self._pos = 0
        self._misses: list[Range] = []
        # The common case, served without bisecting: a read inside the piece
        # at offset 0. exifread makes thousands of 2- and 4-byte reads per
        # file; this path more than halves its time over a buffer. (Pieces
        # added later are still read, by the general path.)
        self._first = buffer._pieces[0] if buffer._starts[:1] == [0] else b""
        self._first_end = len(self._first) if buffer.total is None else min(len(self._first), buffer.total)

    def read(self, size: int | None = -1) -> bytes:
        pos = self._pos
        if size is not None and 0 <= size and 0 <= pos and pos + size <= self._first_end:
            self._pos = pos + size
            return self._first[pos : pos + size]
        if size is None or size < 0:
            size = self._read_all_size()
        start, end = self._buffer.clamp(pos, size)
        data = self._buffer.contiguous(start, end - start)
        if len(data) < end - start:
            missing = self._buffer.missing(start, end - start)
            if self._strict:
                raise NeedBytes(missing)
            self._misses.extend(missing)
        self._pos += len(data)
        return data

    @property
    def misses(self) -> list[Range]:
        """The missing ranges lenient reads met, sorted and merged."""
        return normalize(self._misses)

    def _read_all_size(self) -> int:
        """Bytes to the end of the file; unknown size: one past the bytes held, so it shows as missing."""
        if self._buffer.total is not None:
            return max(self._buffer.total - self._pos, 0)
        return max(self._buffer.end_known + 1 - self._pos, 0)

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 1:
            offset += self._pos
        elif whence == 2:
            total = self._buffer.total
            offset += self._buffer.end_known if total is None else total
        if offset < 0:
            raise ValueError(f"negative seek value {offset}")  # as io.BytesIO says it
        self._pos = offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        """Nothing to release; present because libraries close what they open."""
