"""TIFF image file directories (IFDs) over a sparse buffer.

Used for TIFF files, where the EXIF *is* the file's own IFD structure, spread
over the file at offsets its header and IFDs give (often at the end). The
walk mirrors what exifread reads with ``details=False``: every IFD in the
chain from the header, the EXIF sub-IFD named by IFD0, the GPS and Interop
sub-IFDs of any IFD it dumps, and the value area of each entry it decodes
(ASCII of any length, other types under 1,000 values; the XMP, MakerNote and
UserComment tags it ignores are skipped). So the ranges it collects are what
exifread needs, found a level of indirection per fetch round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crawler.fingerprint.layout import Draft
from crawler.fingerprint.sparse import NeedBytes, SparseBuffer

# Field type -> bytes per value (TIFF 6 and exifread's table; 13 is IFD).
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
EXIF_IFD, GPS_IFD, INTEROP_IFD = 0x8769, 0x8825, 0xA005
_IGNORED = frozenset({0x02BC, 0x927C, 0x9286})  # exifread's IGNORE_TAGS when details=False
_ASCII, _MAX_VALUES = 2, 1000
MAX_IFDS = 64  # IFDs walked in all; real files have a handful


@dataclass(frozen=True)
class Entry:
    """One IFD entry; ``value_at`` is the file offset of its value (inline or not)."""

    tag: int
    type: int
    count: int
    value_at: int

    @property
    def size(self) -> int:
        return self.count * TYPE_SIZES.get(self.type, 0)


class IfdReader:
    """Reads IFDs of the TIFF structure whose header is at file offset ``base``."""

    def __init__(self, buffer: SparseBuffer, base: int, little_endian: bool) -> None:
        self.buffer = buffer
        self.base = base
        self.order: Literal["little", "big"] = "little" if little_endian else "big"

    def uint(self, offset: int, length: int) -> int | None:
        """An unsigned integer at ``offset`` from the header; None past the end of the file."""
        data = self.buffer.get(self.base + offset, length)
        return int.from_bytes(data, self.order) if len(data) == length else None

    def entries(self, ifd: int) -> tuple[list[Entry], int | None]:
        """The IFD's entries and its next-IFD pointer (None when truncated)."""
        count = self.uint(ifd, 2)
        if not count:
            return [], None
        table = self.buffer.get(self.base + ifd + 2, 12 * count + 4)
        entries = [self._entry(ifd + 2 + 12 * i, table[12 * i : 12 * i + 12]) for i in range(len(table) // 12)]
        following = int.from_bytes(table[-4:], self.order) if len(table) == 12 * count + 4 else None
        return entries, following

    def _entry(self, at: int, raw: bytes) -> Entry:
        tag, kind = int.from_bytes(raw[0:2], self.order), int.from_bytes(raw[2:4], self.order)
        count = int.from_bytes(raw[4:8], self.order)
        inline = count * TYPE_SIZES.get(kind, 0) <= 4
        value_at = at + 8 if inline else int.from_bytes(raw[8:12], self.order)
        return Entry(tag, kind, count, self.base + value_at)

    def first_value(self, entry: Entry) -> int | None:
        """The first value of an integer entry (BYTE, SHORT, LONG, IFD)."""
        size = TYPE_SIZES.get(entry.type, 0)
        if entry.type not in (1, 3, 4, 13) or entry.count < 1:
            return None
        data = self.buffer.get(entry.value_at, size)
        return int.from_bytes(data, self.order) if len(data) == size else None


def walk_exif(reader: IfdReader, draft: Draft, first_ifd: int) -> dict[int, Entry]:
    """Collect the EXIF ranges of the IFD chain into ``draft``; returns IFD0's entries by tag."""
    seen: set[int] = set()
    chain: list[list[Entry]] = []
    ifd: int | None = first_ifd
    while ifd and ifd not in seen and len(seen) < MAX_IFDS:
        seen.add(ifd)
        try:
            entries, ifd = _dump(reader, draft, ifd, seen, chained=True)
        except NeedBytes as need:
            draft.needs.extend(need.ranges)
            break
        chain.append(entries)
    ifd0 = {entry.tag: entry for entry in chain[0]} if chain else {}
    exif = ifd0.get(EXIF_IFD)
    if exif is not None:
        with draft.wants():
            _dump_at(reader, draft, reader.first_value(exif), seen)
    return ifd0


def _dump(reader: IfdReader, draft: Draft, ifd: int, seen: set[int], chained: bool) -> tuple[list[Entry], int | None]:
    """One IFD: its table, value areas and GPS/Interop sub-IFDs go into the draft."""
    draft.exif(reader.base + ifd, reader.base + ifd + 2)
    count = reader.uint(ifd, 2) or 0
    draft.exif(reader.base + ifd + 2, reader.base + ifd + 2 + 12 * count + (4 if chained else 0))
    entries, following = reader.entries(ifd)
    for entry in entries:
        _value_area(draft, entry)
        if entry.tag in (GPS_IFD, INTEROP_IFD):
            with draft.wants():
                _dump_at(reader, draft, reader.first_value(entry), seen)
    return entries, following


def _dump_at(reader: IfdReader, draft: Draft, ifd: int | None, seen: set[int]) -> None:
    if ifd and ifd not in seen and len(seen) < MAX_IFDS:
        seen.add(ifd)
        _dump(reader, draft, ifd, seen, chained=False)


def _value_area(draft: Draft, entry: Entry) -> None:
    if entry.tag in _IGNORED or entry.type not in TYPE_SIZES or entry.size <= 4:
        return
    if entry.type == _ASCII or entry.count < _MAX_VALUES:
        draft.exif(entry.value_at, entry.value_at + entry.size)
