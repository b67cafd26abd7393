"""``crawler match --known [NAME]``: crawled images that match a known set.

Each known entry is looked up like one ``--image`` query (its keys in the
index's indexes, level 3 by multi-index hashing in the database); every
entry with matches gives a group per level, tagged with the set, its
category and the entry's path.
"""

from __future__ import annotations

from crawler.index.base import Database
from crawler.match import known
from crawler.match.model import Group, KnownHit
from crawler.match.evidence import Thresholds
from crawler.match.query import Keys, image_groups


def known_groups(database: Database, name: str | None, thresholds: Thresholds) -> list[Group]:
    groups: list[Group] = []
    for set_name, category, _, _, _ in known.sets(database, name):
        for entry in known.entries(database, set_name):
            keys = Keys.of(entry.prefix_sha256, entry.image_size, entry.content_sha256, entry.phash, entry.phash_kind,
                           (entry.width, entry.height))
            for found in image_groups(database, keys, thresholds):
                distance = found.max_phash_distance if found.level == 3 else None
                found.known = [KnownHit(set_name, category, entry.path, found.level, found.evidence, distance)]
                groups.append(found)
    groups.sort(key=lambda g: (g.level, -g.hosts, -g.urls, g.known[0].set, g.known[0].path))
    for number, found in enumerate(groups, 1):
        found.group = number
    return groups
