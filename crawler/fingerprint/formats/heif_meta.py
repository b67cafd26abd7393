"""The HEIF ``meta`` box: items, where their data lies, and their properties.

A HEIF file (HEIC, AVIF) is a set of items: coded images, derived images (a
``grid`` of tiles, an ``iden`` rotation), EXIF, XMP. The ``meta`` box lists
them (``iinf``), locates their bytes (``iloc``), names the primary one
(``pitm``), links derived images to their sources (``iref``/``dimg``) and
attaches properties such as the size (``ispe``) and the decoder
configuration (``hvcC``, ``av1C``) through ``iprp``/``ipma``.

Each child box is parsed on its own: a malformed ``iref`` still leaves the
item locations usable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from crawler.fingerprint.formats.bmff import Box, Cursor, Truncated, children, find

Extent = tuple[int, int]  # (offset, length); length 0 means "to the end"


@dataclass(frozen=True)
class Location:
    """Where an item's bytes are: in the file (method 0) or in ``idat`` (method 1)."""

    method: int
    base: int
    extents: tuple[Extent, ...]


@dataclass
class Meta:
    """What the ``meta`` box says; offsets in ``idat_at`` are file offsets."""

    primary: int | None = None
    types: dict[int, bytes] = field(default_factory=dict)
    locations: dict[int, Location] = field(default_factory=dict)
    properties: dict[int, list[tuple[bytes, bytes]]] = field(default_factory=dict)
    references: dict[tuple[bytes, int], list[int]] = field(default_factory=dict)
    idat_at: int | None = None

    def property(self, item: int, kind: bytes) -> bytes | None:
        """The payload of the item's first property of this kind."""
        return next((body for name, body in self.properties.get(item, []) if name == kind), None)

    def items_of_type(self, kind: bytes) -> list[int]:
        return [item for item, item_type in self.types.items() if item_type == kind]


def parse_meta(data: bytes, file_offset: int) -> Meta:
    """Parse the whole ``meta`` box held in ``data`` (header included), found at ``file_offset``."""
    meta = Meta()
    top = children(data, 0, len(data))
    box = next(top, None)
    if box is None or box.kind != b"meta":
        return meta
    for child in children(data, box.body + 4, box.end):  # + version and flags
        parser = _PARSERS.get(child.kind)
        if parser is not None:
            try:
                parser(data, child, meta)
            except Truncated:
                continue
        if child.kind == b"idat":
            meta.idat_at = file_offset + child.body
    return meta


def _pitm(data: bytes, box: Box, meta: Meta) -> None:
    cursor = Cursor(data, box.body, box.end)
    version, _ = cursor.full_box()
    meta.primary = cursor.uint(2 if version == 0 else 4)


def _iinf(data: bytes, box: Box, meta: Meta) -> None:
    cursor = Cursor(data, box.body, box.end)
    version, _ = cursor.full_box()
    cursor.uint(2 if version == 0 else 4)  # entry count: the infe boxes that follow say it too
    for entry in children(data, cursor.pos, box.end):
        if entry.kind == b"infe":
            _infe(Cursor(data, entry.body, entry.end), meta)


def _infe(cursor: Cursor, meta: Meta) -> None:
    version, _ = cursor.full_box()
    if version < 2:
        return  # versions 0 and 1 carry no item type
    item = cursor.uint(2 if version == 2 else 4)
    cursor.uint(2)  # protection index
    meta.types[item] = cursor.take(4)


def _iloc(data: bytes, box: Box, meta: Meta) -> None:
    cursor = Cursor(data, box.body, box.end)
    version, _ = cursor.full_box()
    sizes = cursor.uint(2)
    offset_size, length_size, base_size = sizes >> 12, (sizes >> 8) & 0xF, (sizes >> 4) & 0xF
    index_size = sizes & 0xF if version in (1, 2) else 0
    for _ in range(cursor.uint(2 if version < 2 else 4)):
        item = cursor.uint(2 if version < 2 else 4)
        method = cursor.uint(2) & 0xF if version in (1, 2) else 0
        cursor.uint(2)  # data reference index
        base = cursor.uint(base_size)
        extents = []
        for _ in range(cursor.uint(2)):
            cursor.uint(index_size)
            extents.append((cursor.uint(offset_size), cursor.uint(length_size)))
        meta.locations[item] = Location(method, base, tuple(extents))


def _iprp(data: bytes, box: Box, meta: Meta) -> None:
    ipco = find(data, box.body, box.end, b"ipco")
    if ipco is None:
        return
    pool = [(prop.kind, data[prop.body : prop.end]) for prop in children(data, ipco.body, ipco.end)]
    for ipma in children(data, box.body, box.end):
        if ipma.kind == b"ipma":
            _ipma(Cursor(data, ipma.body, ipma.end), pool, meta)


def _ipma(cursor: Cursor, pool: list[tuple[bytes, bytes]], meta: Meta) -> None:
    version, flags = cursor.full_box()
    for _ in range(cursor.uint(4)):
        item = cursor.uint(2 if version < 1 else 4)
        for _ in range(cursor.uint(1)):
            index = cursor.uint(2) & 0x7FFF if flags & 1 else cursor.uint(1) & 0x7F
            if 0 < index <= len(pool):
                meta.properties.setdefault(item, []).append(pool[index - 1])


def _iref(data: bytes, box: Box, meta: Meta) -> None:
    cursor = Cursor(data, box.body, box.end)
    version, _ = cursor.full_box()
    width = 2 if version == 0 else 4
    for reference in children(data, cursor.pos, box.end):
        refs = Cursor(data, reference.body, reference.end)
        source = refs.uint(width)
        targets = [refs.uint(width) for _ in range(refs.uint(2))]
        meta.references.setdefault((reference.kind, source), []).extend(targets)


_PARSERS: dict[bytes, Callable[[bytes, Box, Meta], None]] = {
    b"pitm": _pitm,
    b"iinf": _iinf,
    b"iloc": _iloc,
    b"iprp": _iprp,
    b"iref": _iref,
}
