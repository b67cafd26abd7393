"""Running counts of one crawl, read by the progress display and the summary."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crawler.models import ImageRecord


@dataclass
class Stats:
    """Running counts of one crawl; read by the progress display and the summary."""

    listed: int = 0
    resumed: int = 0  # listed URLs a previous run had finished
    done: int = 0  # listed URLs finished in this run
    pages: int = 0
    pages_truncated: int = 0
    images_found: int = 0
    images_capped: int = 0
    fingerprinted: int = 0
    skipped: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    bytes_fetched: int = 0
    image_bytes_total: int = 0  # sum of the known total sizes of the images seen
    processes: int = 1  # processes the crawl ran in (the sum over workers, each counting 1)
    index_failures: int = 0  # listed URLs whose file was written but not indexed

    def count(self, record: ImageRecord) -> None:
        self.bytes_fetched += record.bytes_fetched
        self.image_bytes_total += record.image_size or 0
        if record.status == "ok":
            self.fingerprinted += 1
        elif record.status == "skipped":
            self.skipped += 1
        else:
            self.errors[record.error_kind or "error"] += 1


def total(parts: Iterable[Stats]) -> Stats:
    """The sum of several workers' counts."""
    result = Stats(processes=0)  # each part counts itself
    for part in parts:
        for name in _FIELDS:
            setattr(result, name, getattr(result, name) + getattr(part, name))
    return result


def copy_into(source: Stats, target: Stats) -> None:
    for name in _FIELDS:
        setattr(target, name, getattr(source, name))


def as_json(stats: Stats) -> dict[str, Any]:
    """The counts as JSON values (a queue worker saves each batch's)."""
    return {**{name: getattr(stats, name) for name in _FIELDS}, "errors": dict(stats.errors)}


def from_json(data: Mapping[str, Any]) -> Stats:
    """Counts saved by :func:`as_json`; fields unknown to this version are left out."""
    values = {name: data[name] for name in _FIELDS if name in data and name != "errors"}
    return Stats(**values, errors=Counter(data.get("errors") or {}))


_FIELDS = [f.name for f in dataclasses.fields(Stats)]
