"""Every group in an index: the keys from the database, the grouping in numpy."""

from __future__ import annotations

from crawler.index.base import Database
from crawler.match.evidence import Thresholds
from crawler.match.grouping import group
from crawler.match.load import (
    identical_edges,
    member_rows,
    same_picture_edges,
    similar_edges,
)
from crawler.match.model import Group
from crawler.match.report import build_groups


def find_groups(database: Database, thresholds: Thresholds) -> list[Group]:
    skeletons = group(identical_edges(database), same_picture_edges(database), similar_edges(database, thresholds))
    rows = member_rows(database, (row_id for skeleton in skeletons for row_id in skeleton.ids))
    return build_groups(skeletons, rows)
