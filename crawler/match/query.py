"""Where does this one image appear? Its keys looked up in the index's own indexes.

Levels 1 and 2 are equality lookups. Level 3 is multi-index hashing in the
database: a pHash within ``t`` bits of the query agrees within ``t // 4``
bits on at least one of its four 16-bit pieces, so the candidates are the
rows whose piece ``k`` is one of the few values that close to the query's,
among hashes of the query's kind (``t`` is that kind's threshold; band
hashes only of pictures with the query's aspect ratio). Each piece
has a covering index (piece, kind, pHash), so the candidates and their full
distances come from the indexes alone; only real matches are read whole.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from itertools import combinations

from crawler.fingerprint.perceptual import hash_kind
from crawler.index.base import Database, Row
from crawler.index.rows import PIECE_BITS, PIECES, phash_int, phash_pieces
from crawler.fingerprint.band import same_shape
from crawler.match.evidence import Level, Thresholds, hamming, shape_must_match
from crawler.match.load import MEMBER_COLUMNS
from crawler.match.model import Group, Member
from crawler.match.report import member, supporting
from crawler.models import ImageRecord

_COLUMNS = ", ".join(MEMBER_COLUMNS)
_PHASH = MEMBER_COLUMNS.index("phash")
_KIND = MEMBER_COLUMNS.index("phash_kind")
_WIDTH, _HEIGHT = MEMBER_COLUMNS.index("width"), MEMBER_COLUMNS.index("height")


@dataclass(frozen=True)
class Keys:
    """What one image is looked up by; the pHash with its kind (``exif_thumbnail``, ``top_band_8``)."""

    prefix: str | None
    size: int | None
    content: str | None
    phash: int | None
    kind: str | None
    shape: tuple[int | None, int | None] = (None, None)  # width, height: band hashes need equal ratios

    @classmethod
    def of(cls, prefix: str | None, size: int | None, content: str | None, phash_hex: str | None,
           kind: str | None, shape: tuple[int | None, int | None] = (None, None)) -> Keys:
        phash = phash_int(phash_hex)
        return cls(prefix, size, content, phash, kind if phash is not None else None, shape)

    @classmethod
    def of_record(cls, record: ImageRecord) -> Keys:
        return cls.of(record.sha256_first_10240_bytes, record.image_size, record.content_sha256,
                      record.perceptual_hash, hash_kind(record.perceptual_hash_source), (record.width, record.height))


def close_pieces(value: int, threshold: int) -> list[list[int]]:
    """For each piece, every value within ``threshold // 4`` bits of the query's piece."""
    radius = threshold // PIECES
    masks = [sum(1 << b for b in bits) for r in range(radius + 1) for bits in combinations(range(PIECE_BITS), r)]
    return [[piece ^ mask for mask in masks] for piece in phash_pieces(value) if piece is not None]


def matches(database: Database, keys: Keys, thresholds: Thresholds) -> dict[Level, list[tuple[Row, int | None]]]:
    """Rows matching each key, each in its strongest level only, with pHash distances."""
    found: dict[Level, list[tuple[Row, int | None]]] = {level: [] for level in Level}
    seen: set[int] = set()
    lookups = [
        (Level.IDENTICAL, "prefix_sha256 = ? AND image_size = ?",
         [keys.prefix, keys.size] if keys.prefix and keys.size else None),
        (Level.SAME_PICTURE, "content_sha256 = ?", [keys.content] if keys.content else None),
    ]
    for level, where, params in lookups:
        if params is not None:
            for row in database.query(f"SELECT {_COLUMNS} FROM images WHERE {where}", params):
                if row[0] not in seen:
                    seen.add(row[0])
                    found[level].append((row, _distance(row, keys)))
    if keys.phash is not None and keys.kind is not None:
        near = _near(database, keys.phash, keys.kind, thresholds.for_kind(keys.kind))
        for row in _rows(database, [row_id for row_id in near if row_id not in seen]):
            if not shape_must_match(keys.kind) or same_shape(keys.shape, (row[_WIDTH], row[_HEIGHT])):
                found[Level.SIMILAR].append((row, _distance(row, keys)))
    return found


def _near(database: Database, phash: int, kind: str, threshold: int) -> list[int]:
    """Ids of rows whose pHash of ``kind`` is within ``threshold``: candidates from each piece's covering index."""
    selects = []
    params: list[int | str] = []
    for k, values in enumerate(close_pieces(phash, threshold)):
        selects.append(f"SELECT id, phash FROM images WHERE ph{k} IN ({', '.join('?' for _ in values)}) "
                       "AND phash_kind = ?")
        params += [*values, kind]
    candidates: dict[int, int] = {int(row[0]): int(row[1]) for row in database.query(" UNION ALL ".join(selects), params)}
    return sorted(row_id for row_id, value in candidates.items() if hamming(value, phash) <= threshold)


def _rows(database: Database, ids: list[int]) -> list[Row]:
    if not ids:
        return []
    return database.query(f"SELECT {_COLUMNS} FROM images WHERE id IN ({', '.join('?' for _ in ids)})", ids)


def _distance(row: Row, keys: Keys) -> int | None:
    if keys.phash is None or row[_PHASH] is None or row[_KIND] != keys.kind:
        return None
    return hamming(row[_PHASH], keys.phash)


def image_groups(database: Database, keys: Keys, thresholds: Thresholds) -> list[Group]:
    """One group per level that has matches, strongest first; distances are to the query."""
    groups: list[Group] = []
    for level, rows in matches(database, keys, thresholds).items():
        if not rows:
            continue
        rows.sort(key=lambda item: (item[1] if item[1] is not None else 99, item[0][1], item[0][2]))
        members = [_member(row, distance) for row, distance in rows]
        distances = [d for _, d in rows if d is not None]
        groups.append(Group(
            group=len(groups) + 1, level=int(level), evidence=level.label, supporting=supporting(members),
            hosts=len({m.host for m in members}), urls=len({m.url for m in members}),
            max_phash_distance=max(distances) if distances and level == Level.SIMILAR else None, members=members,
        ))
    return groups


def _member(row: Row, distance: int | None) -> Member:
    return dataclasses.replace(member(row, 1, 1, None), phash_distance=distance)
