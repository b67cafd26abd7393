"""``crawler known add|import|export|list``: known-image sets in the index."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.index.base import Database
from crawler.index.database import connect, index_location
from crawler.match import known
from crawler.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, help="output folder whose index holds the sets (default: output.dir)")
    parser.add_argument("--index", help="index: SQLite file or postgresql:// URL (index.url)")
    actions = parser.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="fingerprint a folder or tar archive into a set (no image is stored)")
    add.add_argument("source", type=Path, help="folder or tar archive of images")
    add.set_defaults(known_run=_add)
    imported = actions.add_parser("import", help="import a set exported as JSON Lines or CSV")
    imported.add_argument("file", type=Path)
    imported.set_defaults(known_run=_import)
    for sub in (add, imported):
        sub.add_argument("--name", help="set name (import: default from the file's header, else its name)")
        sub.add_argument("--category", help="category, e.g. notable or irrelevant (default: notable)")
        sub.add_argument("--replace", action="store_true", help="replace a set of the same name")
    export = actions.add_parser("export", help="write a set's fingerprints as JSON Lines or CSV")
    export.add_argument("name")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.set_defaults(known_run=_export)
    listing = actions.add_parser("list", help="list the sets")
    listing.set_defaults(known_run=_list)


def run(args: argparse.Namespace, settings: Settings) -> int:
    database = connect(index_location(settings.index.url, args.dir or settings.output.dir))
    try:
        return int(args.known_run(args, settings, database))
    finally:
        database.close()


def _add(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    if not args.name:
        print("crawler: known add needs --name", file=sys.stderr)
        return 2
    report = known.fingerprint_source(args.source, settings.fingerprint)
    for problem in report.skipped:
        print(f"crawler: skipped {problem}", file=sys.stderr)
    known.store(database, args.name, args.category or "notable", str(args.source), report.entries, args.replace)
    print(f"known set {args.name!r}: {len(report.entries)} images fingerprinted, {len(report.skipped)} skipped",
          file=sys.stderr)
    return 0


def _import(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    parsed = known.parse(args.file)
    name = args.name or parsed.name or args.file.stem
    category = args.category or parsed.category or "notable"
    known.store(database, name, category, str(args.file), parsed.entries, args.replace)
    print(f"known set {name!r} ({category}): {len(parsed.entries)} fingerprints imported", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    [(name, category, _, _, _)] = known.sets(database, args.name)
    text = known.export_text(name, category, known.entries(database, name), args.format)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _list(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    for name, category, source, added, count in known.sets(database):
        print(f"{name}\t{category}\t{count} images\t{source}\tadded {added[:19]}")
    return 0
