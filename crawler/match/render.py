"""Groups -> text: a table for the terminal, JSON Lines and CSV for tools.

The table goes through rich, which escapes its markup in values (a URL with
``[bold]`` in it prints as is); CSV has a header row and one row per member.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crawler.match.model import GROUPS, Group, Member

MEMBER_FIELDS = [field.name for field in dataclasses.fields(Member)]
CSV_COLUMNS = ["group", "level", "evidence", *MEMBER_FIELDS]


def jsonl(groups: Iterable[Group], out: TextIO) -> None:
    for group in groups:
        out.write(GROUPS.dump_json(group).decode() + "\n")


def csv_rows(groups: Iterable[Group], out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for group in groups:
        for member in group.members:
            writer.writerow([group.group, group.level, group.evidence, *(getattr(member, name) for name in MEMBER_FIELDS)])


def table(groups: list[Group], out: TextIO) -> None:
    console = Console(file=out, highlight=False, soft_wrap=False, width=max(Console(file=io.StringIO()).width, 160))
    if not groups:
        console.print("no groups: no image was found more than once")
        return
    for group in groups:
        console.print(escape(_heading(group)), style="bold")
        for line in group.supporting:
            console.print(f"  supporting: {escape(line)}")
        for hit in group.known:
            console.print(f"  known: set {escape(hit.set)} ({escape(hit.category)}) {escape(hit.path)}: "
                          f"{escape(hit.evidence)}" + (f", pHash Δ {hit.phash_distance}" if hit.level == 3 else ""))
        console.print(_members(group))
    console.print(f"{len(groups)} group(s)")


def _heading(group: Group) -> str:
    spread = f"{len(group.members)} sightings, {group.urls} URL(s) on {group.hosts} host(s)"
    extra = f", pHash distance up to {group.max_phash_distance}" if group.max_phash_distance is not None else ""
    return f"Group {group.group}: {group.evidence} (level {group.level}): {spread}{extra}"


def _members(group: Group) -> Table:
    grid = Table(box=None, pad_edge=False, show_edge=False)
    for name in ("pic/file", "pHash Δ", "url", "page", "host", "first seen", "last seen", "size", "format",
                 "pixels", "camera", "taken", "GPS"):
        wraps = name in ("url", "page", "camera")  # long free text folds; short fields stay on one line
        grid.add_column(name, overflow="fold", no_wrap=not wraps)
    for m in group.members:
        grid.add_row(*(escape(value) for value in _cells(m)))
    return grid


def _cells(m: Member) -> list[str]:
    pixels = f"{m.width}x{m.height}" if m.width and m.height else ""
    camera = " ".join(part for part in (m.exif_make, m.exif_model) if part)
    return [
        f"{m.picture}/{m.file}", "" if m.phash_distance is None else str(m.phash_distance), m.url,
        m.page_url or "(listed)", m.host, m.first_seen[:16].replace("T", " "), m.last_seen[:16].replace("T", " "),
        "" if m.image_size is None else str(m.image_size), m.format or "", pixels, camera, m.exif_taken or "",
        "yes" if m.exif_gps else "no",
    ]
