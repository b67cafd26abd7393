"""Helpers for the index and match tests: a small real site and reading an index."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from crawler.index.schema import IMAGE_COLUMNS

SITE_IMAGES = 6


def make_site(root: Path, corpus: Path, count: int = SITE_IMAGES) -> list[str]:
    """A page of ``count`` corpus JPEGs plus one of them under a second name; returns the names."""
    root.mkdir(parents=True, exist_ok=True)
    sources = sorted((corpus / "jpeg").glob("*.jpg"))[:count]
    names = []
    for index, source in enumerate(sources):
        shutil.copy(source, root / f"img{index}.jpg")
        names.append(f"img{index}.jpg")
    shutil.copy(sources[0], root / "copy_of_img0.jpg")
    names.append("copy_of_img0.jpg")
    body = "".join(f'<img src="{name}">' for name in names)
    (root / "index.html").write_text(f"<html><body>{body}</body></html>")
    return names


def index_rows(path: Path, without_runs: bool = True) -> list[tuple[object, ...]]:
    """Every image row (sorted), without the run ids and seen times when asked."""
    skip = {"first_run", "last_run"} if without_runs else set()
    columns = [column for column in IMAGE_COLUMNS if column not in skip]
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute(f"SELECT {', '.join(columns)} FROM images").fetchall(), key=repr)
