"""Reading the index for matching: duplicate keys, pHashes and the rows to show.

Exact keys are grouped by the database on its indexes (only keys held by
more than one row come back); pHashes are read as integers, one kind at a
time, for :mod:`crawler.match.near`. A NULL key never groups: ``IS NOT NULL`` on
every key, and the prefix only together with a known size.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from crawler.index.base import Database, Row
from crawler.fingerprint.band import same_shape
from crawler.match.evidence import Thresholds, shape_must_match
from crawler.match.grouping import Edges, key_edges, phash_edges

MEMBER_COLUMNS = (
    "id", "url", "page_url", "host", "first_seen", "last_seen", "first_run", "last_run", "image_size",
    "format", "width", "height", "exif_make", "exif_model", "exif_taken", "exif_gps", "etag", "phash", "phash_kind", "thumbnail",
)  # fmt: skip
_CHUNK = 5000

_IDENTICAL = """
SELECT id, prefix_sha256, image_size FROM images
WHERE prefix_sha256 IS NOT NULL AND image_size IS NOT NULL AND (prefix_sha256, image_size) IN (
    SELECT prefix_sha256, image_size FROM images
    WHERE prefix_sha256 IS NOT NULL AND image_size IS NOT NULL
    GROUP BY prefix_sha256, image_size HAVING count(*) > 1)
ORDER BY prefix_sha256, image_size, id
"""
_SAME_PICTURE = """
SELECT id, content_sha256 FROM images
WHERE content_sha256 IS NOT NULL AND content_sha256 IN (
    SELECT content_sha256 FROM images WHERE content_sha256 IS NOT NULL
    GROUP BY content_sha256 HAVING count(*) > 1)
ORDER BY content_sha256, id
"""


def identical_edges(database: Database) -> Edges:
    rows = database.query(_IDENTICAL)
    return key_edges([row[0] for row in rows], [(row[1], row[2]) for row in rows])


def same_picture_edges(database: Database) -> Edges:
    rows = database.query(_SAME_PICTURE)
    return key_edges([row[0] for row in rows], [row[1] for row in rows])


def similar_edges(database: Database, thresholds: Thresholds) -> Edges:
    """pHash edges within each kind of hash, at that kind's threshold; band edges between equal shapes only."""
    first: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    second: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    kinds = database.query("SELECT DISTINCT phash_kind FROM images WHERE phash IS NOT NULL")
    for (kind,) in kinds:
        rows = database.query(
            "SELECT id, phash, width, height FROM images WHERE phash IS NOT NULL AND phash_kind = ? ORDER BY id", (kind,))
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        edges = phash_edges(ids, [row[1] for row in rows], thresholds.for_kind(str(kind)))
        if shape_must_match(str(kind)) and len(edges[0]):
            shapes = [(row[2], row[3]) for row in rows]
            at = np.searchsorted(ids, edges[0]), np.searchsorted(ids, edges[1])
            keep = np.array([same_shape(shapes[i], shapes[j]) for i, j in zip(*at)], dtype=bool)
            edges = edges[0][keep], edges[1][keep]
        first.append(edges[0])
        second.append(edges[1])
    return np.concatenate(first), np.concatenate(second)


def member_rows(database: Database, ids: Iterable[int]) -> dict[int, Row]:
    """The shown columns of rows by id."""
    wanted = list(ids)
    found: dict[int, Row] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        for row in database.query(f"SELECT {', '.join(MEMBER_COLUMNS)} FROM images WHERE id IN ({marks})", chunk):
            found[int(row[0])] = row
    return found
