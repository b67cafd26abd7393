"""``crawler match``: groups of the same image in the index, for people or tools."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.index.base import Database, IndexUnusable
from crawler.index.database import connect, index_location, is_postgresql
from crawler.settings import Settings

if TYPE_CHECKING:
    from crawler.match.model import Group
    from crawler.models import ImageRecord

FORMATS = ("table", "jsonl", "csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, nargs="?", help="output folder of the crawl (default: output.dir)")
    parser.add_argument("--index", help="index: SQLite file or postgresql:// URL (index.url; default DIR/index.sqlite)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output on stdout (default: table)")
    parser.add_argument("--threshold", type=int,
                        help="EXIF thumbnail pHash bits for 'similar picture' (index.phash_threshold)")
    parser.add_argument("--band-threshold", type=int,
                        help="top-band pHash bits of web images for 'similar picture' (index.band_threshold)")
    parser.add_argument("--image", metavar="URL_OR_FILE", help="where does this one image appear?")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write a self-contained page to browse")
    parser.add_argument("--known", nargs="?", const="", metavar="NAME",
                        help="crawled images matching a known set (all sets without NAME)")


def open_existing(args: argparse.Namespace, settings: Settings) -> Database:
    """The index to read; a missing SQLite file is an error, not a new empty index."""
    root = args.dir or settings.output.dir
    location = index_location(settings.index.url, root)
    if not is_postgresql(location) and not Path(location).is_file():
        raise IndexUnusable(f"no index at {location}: `crawler crawl` writes one, `crawler index {root}` builds one")
    return connect(location)


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: the CLI starts without NumPy, SciPy and Jinja2 for the commands that need none.
    from crawler.match import html
    from crawler.match.evidence import Thresholds
    from crawler.match.find import find_groups
    from crawler.match.known_match import known_groups
    from crawler.match.query import Keys, image_groups
    from crawler.run.probe import probe

    record = None
    if args.image:
        record = probe(args.image, settings)
        print(describe(record), file=sys.stderr)
        if record.status != "ok":
            return 1
    database = open_existing(args, settings)
    try:
        thresholds = Thresholds.of(settings.index)
        if record is not None:
            groups = image_groups(database, Keys.of_record(record), thresholds)
        elif args.known is not None:
            groups = known_groups(database, args.known or None, thresholds)
        else:
            groups = find_groups(database, thresholds)
    finally:
        database.close()
    write(groups, args.format)
    if args.html:
        title = f"Where {args.image} appears" if args.image else "Known images found" if args.known is not None \
            else "Images found more than once"
        html.write(groups, args.html, title, args.dir or settings.output.dir)
        print(f"wrote {args.html} ({len(groups)} groups)", file=sys.stderr)
    return 0


def describe(record: ImageRecord) -> str:
    """One line about the probed image, for standard error."""
    if record.status != "ok":
        return f"crawler: cannot fingerprint {record.url}: {record.error}"
    pixels = f"{record.width}x{record.height}" if record.width and record.height else "size unknown"
    phash = (f"pHash {record.perceptual_hash} ({record.perceptual_hash_source})" if record.perceptual_hash
             else "no pHash (no EXIF thumbnail, no band hash)")
    return f"{record.url}: {record.format or 'unknown format'}, {record.image_size} bytes, {pixels}, {phash}"


def write(groups: list[Group], output_format: str) -> None:
    from crawler.match import render

    if output_format == "jsonl":
        render.jsonl(groups, sys.stdout)
    elif output_format == "csv":
        render.csv_rows(groups, sys.stdout)
    else:
        render.table(groups, sys.stdout)
