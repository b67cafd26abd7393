"""Group skeletons and index rows -> the :class:`Group` list the renderers show. Pure.

Groups are ordered strongest evidence first, then by how widely the image
spread (hosts, then URLs). Within a group, members are ordered by picture
and file, so copies of one file stand together.
"""

from __future__ import annotations

from collections import defaultdict

from crawler.index.base import Row
from crawler.match.evidence import Level, hamming
from crawler.match.grouping import Skeleton
from crawler.match.load import MEMBER_COLUMNS
from crawler.match.model import Group, Member

_PHASH = MEMBER_COLUMNS.index("phash")
_KIND = MEMBER_COLUMNS.index("phash_kind")


def build_groups(skeletons: list[Skeleton], rows: dict[int, Row]) -> list[Group]:
    groups = [_group(skeleton, rows) for skeleton in skeletons]
    groups.sort(key=lambda g: (g.level, -g.hosts, -g.urls, -len(g.members), g.members[0].url))
    for number, group in enumerate(groups, 1):
        group.group = number
    return groups


def _group(skeleton: Skeleton, rows: dict[int, Row]) -> Group:
    ordered = sorted(skeleton.ids, key=lambda i: (skeleton.pictures[i], skeleton.files[i], rows[i][1], rows[i][2]))
    references: dict[str, int] = {}  # distances are to the group's first hash of the same kind
    for i in ordered:
        if rows[i][_PHASH] is not None:
            references.setdefault(rows[i][_KIND], rows[i][_PHASH])
    members = [member(rows[i], skeleton.files[i], skeleton.pictures[i], references.get(rows[i][_KIND]))
               for i in ordered]
    distances = [m.phash_distance for m in members if m.phash_distance is not None]
    return Group(
        group=0,
        level=int(skeleton.level),
        evidence=skeleton.level.label,
        supporting=supporting(members),
        hosts=len({m.host for m in members}),
        urls=len({m.url for m in members}),
        max_phash_distance=max(distances) if distances and skeleton.level == Level.SIMILAR else None,
        members=members,
        known=[],
    )


def member(row: Row, file: int, picture: int, reference: int | None) -> Member:
    """A member from an index row (columns in :data:`~crawler.match.load.MEMBER_COLUMNS` order)."""
    (_, url, page_url, host, first_seen, last_seen, first_run, last_run, image_size, image_format, width, height,
     make, model, taken, gps, etag, phash, phash_kind, thumbnail) = row
    distance = hamming(phash, reference) if phash is not None and reference is not None else None
    return Member(url, page_url or None, host, first_seen, last_seen, first_run, last_run, image_size, image_format,
                  width, height, make, model, taken, bool(gps), etag, file, picture, distance,
                  phash_kind if phash is not None else None, thumbnail)


def supporting(members: list[Member]) -> list[str]:
    """Equal ETags between different URLs of one host; never across hosts, never a missing one."""
    urls: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for m in members:
        if m.etag:
            urls[(m.host, m.etag)].add(m.url)
    return [f'ETag "{etag}" shared by {len(found)} URLs on {host}'
            for (host, etag), found in sorted(urls.items()) if len(found) > 1]
