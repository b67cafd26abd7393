"""``crawler index [DIR]``: rebuild the index from the output folder's JSON files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.index.database import index_location
from crawler.index.rebuild import rebuild
from crawler.settings import Settings

_SHOWN_PROBLEMS = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, nargs="?", help="output folder of the crawl (default: output.dir)")
    parser.add_argument("--index", help="index: SQLite file or postgresql:// URL (index.url; default DIR/index.sqlite)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    root = args.dir or settings.output.dir
    if not root.is_dir():
        print(f"crawler: {root} is not a folder", file=sys.stderr)
        return 2
    report = rebuild(root, index_location(settings.index.url, root))
    for problem in report.problems[:_SHOWN_PROBLEMS]:
        print(f"crawler: {problem}", file=sys.stderr)
    if len(report.problems) > _SHOWN_PROBLEMS:
        print(f"crawler: ... and {len(report.problems) - _SHOWN_PROBLEMS} more problems", file=sys.stderr)
    print(f"indexed {report.records} records from {report.files} files into {report.location}", file=sys.stderr)
    return 0
