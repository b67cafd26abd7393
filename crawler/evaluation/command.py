"""``crawler eval DIR``: run the harness and show the result. The only module here that prints.

The main CLI adds the subcommand with :func:`add_arguments` and calls
:func:`run`. ``DIR`` is a folder of images, searched recursively (for
Stanford Dogs, the extracted ``Images/`` folder or its parent), or a tar
archive such as the official ``images.tar``, read without extracting.

``--report PATH`` writes the Markdown report and the JSON result: ``PATH.md``
and ``PATH.json``; when PATH already ends in ``.md`` or ``.json``, that file
and its sibling with the other suffix. Without it, only the terminal shows
the result. The tables go to stdout; the progress bar goes to stderr, and
only when stderr is a terminal.

Exit codes: 0 done (unreadable or non-image files do not fail a run), 1 the
report could not be written, 2 DIR is neither a directory nor a tar archive.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crawler.evaluation.harness import evaluate
from crawler.evaluation.hashing import DEFAULT_SWEEP, HashParams
from crawler.evaluation.report import (
    METHOD_HEADERS,
    SWEEP_HEADERS,
    Document,
    method_rows,
    render_markdown,
    summary_lines,
    sweep_rows,
    to_document,
)
from crawler.evaluation.sources import is_tar
from crawler.settings import Settings

_TERMINAL_GROUPS, _TERMINAL_PATHS, _TERMINAL_NAMES = 10, 6, 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``eval`` subcommand's arguments to ``parser``."""
    parser.add_argument("source", metavar="DIR", type=Path,
                        help="folder of images (searched recursively) or a tar archive such as images.tar")
    parser.add_argument("--report", metavar="PATH", type=Path, default=None,
                        help="write PATH.md and PATH.json (if PATH ends in .md or .json: it and its sibling)")
    parser.add_argument("--workers", metavar="N", type=_positive_int, default=os.cpu_count() or 1,
                        help="hashing processes for a folder (default: the number of CPUs)")
    parser.add_argument("--sweep", metavar="N,N,...", type=_lengths,
                        default=",".join(str(n) for n in DEFAULT_SWEEP),
                        help="prefix lengths in bytes to sweep (default: %(default)s)")
    parser.add_argument("--min-image-bytes", metavar="N", type=_non_negative_int, default=None,
                        help="evaluate only images of at least N bytes (default: fingerprint.min_image_bytes)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate ``args.source``, print the tables, write the report; the exit code."""
    source: Path = args.source
    if not (source.is_dir() or is_tar(source)):
        print(f"crawler eval: {source}: not a directory or a tar archive", file=sys.stderr)
        return 2
    fingerprint = settings.fingerprint
    if args.min_image_bytes is not None:
        fingerprint = fingerprint.model_copy(update={"min_image_bytes": args.min_image_bytes})
    params = HashParams.from_settings(fingerprint, tuple(args.sweep))
    display = _Display() if sys.stderr.isatty() and not args.no_progress else None
    try:
        evaluation = evaluate(source, params, args.workers, display)
    finally:
        if display is not None:
            display.close()
    document = to_document(evaluation)
    written = _write_report(document, args.report) if args.report is not None else None
    console = Console() if sys.stdout.isatty() else Console(width=200)
    show(document, console)
    if written is None:
        return 0 if args.report is None else 1
    console.print(f"Report: {written[0]} and {written[1]}", highlight=False, markup=False)
    return 0


def report_paths(path: Path) -> tuple[Path, Path]:
    """(Markdown path, JSON path) for ``--report PATH``."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return path.with_suffix(".md"), path
    if suffix == ".md":
        return path, path.with_suffix(".json")
    return path.with_name(path.name + ".md"), path.with_name(path.name + ".json")


def show(document: Document, console: Console) -> None:
    """The summary, both tables, false-positive groups and files not evaluated."""
    for line in summary_lines(document):
        console.print(line, highlight=False, markup=False)
    console.print(_table("Methods", METHOD_HEADERS, method_rows(document)))
    console.print(_table("Prefix-length sweep", SWEEP_HEADERS, sweep_rows(document)))
    for name in document["main_methods"]:
        groups = document["methods"][name]["false_positive_groups"]
        _show_list(console, f"False-positive groups of {name}", [_joined(g) for g in groups], _TERMINAL_GROUPS)
    files = document["files"]
    _show_list(console, "Non-image files", files["non_image"], _TERMINAL_NAMES)
    _show_list(console, "Empty files", files["empty"], _TERMINAL_NAMES)
    _show_list(console, "Unreadable", [f"{p['path']}: {p['reason']}" for p in files["unreadable"]], _TERMINAL_NAMES)
    _show_list(console, "Skipped", [f"{p['path']}: {p['reason']}" for p in files["skipped"]], _TERMINAL_NAMES)


def _table(title: str, headers: tuple[str, ...], rows: list[list[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index == 0 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def _joined(group: list[str]) -> str:
    more = len(group) - _TERMINAL_PATHS
    return ", ".join(group[:_TERMINAL_PATHS]) + (f" … and {more} more" if more > 0 else "")


def _show_list(console: Console, title: str, items: list[str], limit: int) -> None:
    if not items:
        return
    console.print(f"{title} ({len(items)}):", highlight=False, markup=False)
    for item in items[:limit]:
        console.print(f"  {item}", highlight=False, markup=False)
    if len(items) > limit:
        console.print(f"  … and {len(items) - limit} more (see the report)", highlight=False, markup=False)


def _write_report(document: Document, path: Path) -> tuple[Path, Path] | None:
    """Write both report files before anything is shown (a closed pipe must not lose them)."""
    markdown_path, json_path = report_paths(path)
    try:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(render_markdown(document), encoding="utf-8")
        json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"crawler eval: cannot write the report: {exc}", file=sys.stderr)
        return None
    return markdown_path, json_path


class _Display:
    """A progress bar on stderr, started on the first report (after the workers fork)."""

    def __init__(self) -> None:
        columns = (TextColumn("hashing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self._bar = Progress(*columns, console=Console(stderr=True), transient=True)
        self._task: int | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if self._task is None:
            self._bar.start()
            self._task = self._bar.add_task("hashing", total=total)
        self._bar.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._task is not None:
            self._bar.stop()


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _lengths(text: str) -> tuple[int, ...]:
    try:
        lengths = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of byte counts") from None
    if not lengths or lengths[0] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: prefix lengths must be positive")
    return lengths
