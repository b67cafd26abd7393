"""Group skeletons and index rows -> the :class:`Group` list the renderers show. Pure.

Groups are ordered strongest evidence first, then by how widely the image
spread (hosts, then URLs). Within a group, members are ordered by picture
and file, so copies of one file stand together.
"""

from __future__ import annotations

from collections import defaultdict

from crawler.index.database import Row
from crawler.match.evidence import Level, hamming
from crawler.match.grouping import Skeleton
from crawler.match.load import MEMBER_COLUMNS
from crawler.match.model import Group, Member

_AT = {name: position for position, name in enumerate(MEMBER_COLUMNS)}


def build_groups(skeletons: list[Skeleton], rows: dict[int, Row]) -> list[Group]:
    groups = [_group(skeleton, rows) for skeleton in skeletons]
    groups.sort(key=lambda g: (g.level, -g.hosts, -g.urls, -len(g.members), g.members[0].url))
    return [group.model_copy(update={"group": number}) for number, group in enumerate(groups, 1)]


def _group(skeleton: Skeleton, rows: dict[int, Row]) -> Group:
    ordered = sorted(skeleton.ids, key=lambda i: (skeleton.pictures[i], skeleton.files[i],
                                                  rows[i][_AT["url"]], rows[i][_AT["page_url"]]))
    hashes = [rows[i][_AT["phash"]] for i in ordered if rows[i][_AT["phash"]] is not None]
    reference = hashes[0] if hashes else None
    members = [member(rows[i], skeleton.files[i], skeleton.pictures[i], reference) for i in ordered]
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
    )


def member(row: Row, file: int, picture: int, reference: int | None) -> Member:
    value = {name: row[position] for name, position in _AT.items()}
    phash = value["phash"]
    return Member(
        url=value["url"], page_url=value["page_url"] or None, host=value["host"],
        first_seen=value["first_seen"], last_seen=value["last_seen"],
        first_run=value["first_run"], last_run=value["last_run"],
        image_size=value["image_size"], format=value["format"], width=value["width"], height=value["height"],
        exif_make=value["exif_make"], exif_model=value["exif_model"], exif_taken=value["exif_taken"],
        exif_gps=bool(value["exif_gps"]), etag=value["etag"], file=file, picture=picture,
        phash_distance=hamming(phash, reference) if phash is not None and reference is not None else None,
        thumbnail=value["thumbnail"],
    )  # fmt: skip


def supporting(members: list[Member]) -> list[str]:
    """Equal ETags between different URLs of one host; never across hosts, never a missing one."""
    urls: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for m in members:
        if m.etag:
            urls[(m.host, m.etag)].add(m.url)
    return [f'ETag "{etag}" shared by {len(found)} URLs on {host}'
            for (host, etag), found in sorted(urls.items()) if len(found) > 1]
