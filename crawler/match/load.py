"""Reading the index for matching: duplicate keys, pHashes and the rows to show.

Exact keys are grouped by the database on its indexes (only keys held by
more than one row come back); pHashes are read as integers for
:mod:`crawler.match.near`. A NULL key never groups: ``IS NOT NULL`` on
every key, and the prefix only together with a known size.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from crawler.index.base import Database, Row
from crawler.match.grouping import Edges, key_edges, phash_edges

MEMBER_COLUMNS = (
    "id", "url", "page_url", "host", "first_seen", "last_seen", "first_run", "last_run", "image_size",
    "format", "width", "height", "exif_make", "exif_model", "exif_taken", "exif_gps", "etag", "phash", "thumbnail",
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


def similar_edges(database: Database, threshold: int) -> Edges:
    rows = database.query("SELECT id, phash FROM images WHERE phash IS NOT NULL")
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    table = np.array(rows, dtype=np.int64)
    return phash_edges(table[:, 0], table[:, 1], threshold)


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
