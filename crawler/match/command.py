"""``crawler match``: groups of the same image in the index, for people or tools."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.index.database import Database, IndexUnusable, connect, index_location, is_postgresql
from crawler.match import render
from crawler.match.find import find_groups
from crawler.match.model import Group
from crawler.settings import Settings

FORMATS = ("table", "jsonl", "csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, nargs="?", help="output folder of the crawl (default: output.dir)")
    parser.add_argument("--index", help="index: SQLite file or postgresql:// URL (index.url; default DIR/index.sqlite)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output on stdout (default: table)")
    parser.add_argument("--threshold", type=int, help="pHash bits for 'similar picture' (index.phash_threshold)")


def open_existing(args: argparse.Namespace, settings: Settings) -> Database:
    """The index to read; a missing SQLite file is an error, not a new empty index."""
    root = args.dir or settings.output.dir
    location = index_location(settings.index.url, root)
    if not is_postgresql(location) and not Path(location).is_file():
        raise IndexUnusable(f"no index at {location}: `crawler crawl` writes one, `crawler index {root}` builds one")
    return connect(location)


def run(args: argparse.Namespace, settings: Settings) -> int:
    database = open_existing(args, settings)
    try:
        groups = find_groups(database, settings.index.phash_threshold)
    finally:
        database.close()
    write(groups, args.format)
    return 0


def write(groups: list[Group], output_format: str) -> None:
    if output_format == "jsonl":
        render.jsonl(groups, sys.stdout)
    elif output_format == "csv":
        render.csv_rows(groups, sys.stdout)
    else:
        render.table(groups, sys.stdout)
