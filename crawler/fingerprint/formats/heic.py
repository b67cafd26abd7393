"""HEIF family (HEIC, AVIF): find the ``meta`` box, then locate EXIF and image data.

The top-level boxes are walked by their headers (``ftyp``, ``meta``, ``mdat``
in some order); ``meta`` is fetched whole and parsed by
:mod:`crawler.fingerprint.formats.heif_meta`. The size is the primary item's ``ispe``
(before any rotation, as stored). The EXIF ranges are the extents of the
``Exif`` item, which iPhones put in ``mdat``, sometimes at its very end.

Phones store the primary image as a ``grid`` of tiles, so the coded data
that defines the picture is the first tile's: ``image_data_offset`` and the
content hash follow ``dimg`` references from the primary item to a coded
item. The content hash covers the primary size, the coded item's decoder
configuration (``hvcC`` or ``av1C``) and the first K bytes of its data.
"""

from __future__ import annotations

from crawler.fingerprint.formats.bmff import header
from crawler.fingerprint.formats.heif_meta import Meta, parse_meta
from crawler.fingerprint.layout import Draft, Layout, digest
from crawler.fingerprint.sparse import NeedBytes, SparseBuffer

_MAX_TOP_BOXES = 1024
_MAX_META_BYTES = 4 << 20  # a real meta box is a few KB; refuse to fetch a bogus one
_DERIVED = (b"grid", b"iden", b"iovl")
_CONFIGS = (b"hvcC", b"av1C")


def parse(buffer: SparseBuffer, content_bytes: int) -> Layout:
    draft = Draft("heif")
    meta = _find_meta(buffer, draft)
    if meta is not None:
        _describe(buffer, draft, meta, content_bytes)
    return draft.finish(buffer)


def _find_meta(buffer: SparseBuffer, draft: Draft) -> Meta | None:
    pos = 0
    for _ in range(_MAX_TOP_BOXES):
        try:
            box = header(buffer.get(pos, 16), pos, buffer.total)
            if box is None:
                return None
            if box.kind == b"meta":
                if box.end - box.start > _MAX_META_BYTES:
                    return None
                return parse_meta(buffer.get(box.start, box.end - box.start), box.start)
        except NeedBytes as need:
            draft.walk_to(pos, need.ranges)
            return None
        pos = box.end
    return None


def _describe(buffer: SparseBuffer, draft: Draft, meta: Meta, content_bytes: int) -> None:
    for item in meta.items_of_type(b"Exif")[:1]:
        for start, end in _item_ranges(meta, item, None):
            draft.exif(start, end)
    if meta.primary is None:
        return
    size = meta.property(meta.primary, b"ispe") or b""
    if len(size) >= 12:
        draft.size(int.from_bytes(size[4:8], "big"), int.from_bytes(size[8:12], "big"))
    coded = _coded_item(meta, meta.primary)
    if coded is not None:
        _content(buffer, draft, meta, (coded, size), content_bytes)


def _content(buffer: SparseBuffer, draft: Draft, meta: Meta, coded: tuple[int, bytes], content_bytes: int) -> None:
    """Data offset and content hash from the coded item's first ``content_bytes``; ``coded`` = (item, ispe)."""
    item, size = coded
    ranges = _item_ranges(meta, item, content_bytes)
    if not ranges:
        return
    draft.image_data_offset = ranges[0][0]
    for start, end in ranges:
        draft.need(start, end)
    config = next((c for c in (meta.property(item, kind) for kind in _CONFIGS) if c is not None), b"")
    with draft.wants():
        data = b"".join(buffer.get(start, end - start) for start, end in ranges)
        draft.content_sha256 = digest("heif", [size, config, data])


def _coded_item(meta: Meta, item: int) -> int | None:
    """The item holding coded data: the item itself, or the first source of a derived one."""
    for _ in range(8):  # derivations nest at most a few deep
        if meta.types.get(item) not in _DERIVED:
            return item
        sources = meta.references.get((b"dimg", item))
        if not sources:
            return None
        item = sources[0]
    return None


def _item_ranges(meta: Meta, item: int, limit: int | None) -> list[tuple[int, int]]:
    """File ranges of the item's bytes (the first ``limit`` of them); [] when unlocatable."""
    location = meta.locations.get(item)
    if location is None or location.method not in (0, 1):
        return []
    if location.method == 1 and meta.idat_at is None:
        return []
    origin = location.base + ((meta.idat_at or 0) if location.method == 1 else 0)
    ranges, left = [], limit
    for offset, length in location.extents:
        take = length if left is None else min(length or left, left)
        if take <= 0:
            break
        ranges.append((origin + offset, origin + offset + take))
        left = None if left is None else left - take
    return ranges
