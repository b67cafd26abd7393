"""``crawler eval DIR``: parse the arguments, run the harness, print the result and write the report.

The main CLI adds the subcommand with :func:`add_arguments` and calls
:func:`run`. What the result looks like, on the terminal, in Markdown and in
JSON, is :mod:`crawler.evaluation.render`'s business; this module only says
where each form goes. ``DIR`` is a folder of images, searched recursively (for
Stanford Dogs, the extracted ``Images/`` folder or its parent), or a tar
archive such as the official ``images.tar``, read without extracting.

``--report PATH`` writes the Markdown report and the JSON result: ``PATH.md``
and ``PATH.json``; when PATH already ends in ``.md`` or ``.json``, that file
and its sibling with the other suffix. Without it, only the terminal shows
the result. The tables go to stdout; the progress bar goes to stderr, and
only when stderr is a terminal.

``--variants`` also makes variant sets of the images (metadata stripped,
EXIF edited, comment added, re-saved, resized) in a temporary folder, or in
``--variants-dir DIR`` (kept), from all images or ``--variants-sample N`` of
them, and reports how well each method matches a picture to its variants.

Exit codes: 0 done (unreadable or non-image files do not fail a run), 1 the
report could not be written, 2 DIR is neither a directory nor a tar archive,
holds no image to evaluate (nothing to measure: no table, no report), or
``--variants-dir`` is not empty.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from crawler.evaluation.document import Document, to_document
from crawler.evaluation.hashing import DEFAULT_CONTENT_SWEEP, DEFAULT_SWEEP, HashParams
from crawler.evaluation.render import show, to_json, to_markdown
from crawler.evaluation.sources import is_tar
from crawler.settings import Settings

if TYPE_CHECKING:
    from crawler.evaluation.harness import Evaluation, VariantOptions


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
    parser.add_argument("--content-sweep", metavar="K,K,...", type=_lengths,
                        default=",".join(str(n) for n in DEFAULT_CONTENT_SWEEP),
                        help="image-data bytes K to sweep for content_sha256 (default: %(default)s)")
    parser.add_argument("--min-image-bytes", metavar="N", type=_non_negative_int, default=None,
                        help="evaluate only images of at least N bytes (default: fingerprint.min_image_bytes)")
    parser.add_argument("--variants", action="store_true",
                        help="also make variant sets of the images and report recall per variant kind")
    parser.add_argument("--variants-sample", metavar="N", type=_positive_int, default=None,
                        help="make variants of a seeded sample of N images only (implies --variants)")
    parser.add_argument("--variants-dir", metavar="DIR", type=Path, default=None,
                        help="write the variants to DIR, which must be empty or new, and keep them "
                        "(implies --variants; default: a temporary folder)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate ``args.source``, print the tables, write the report; the exit code."""
    # deferred: the harness imports NumPy, which every ``crawler crawl`` would load just to build this parser
    from crawler.evaluation.harness import evaluate

    source: Path = args.source
    if not (source.is_dir() or is_tar(source)):
        print(f"crawler eval: {source}: not a directory or a tar archive", file=sys.stderr)
        return 2
    fingerprint = settings.fingerprint
    if args.min_image_bytes is not None:
        fingerprint = fingerprint.model_copy(update={"min_image_bytes": args.min_image_bytes})
    variants = _variant_options(args)
    if variants is not None and variants.directory is not None and _not_empty(variants.directory):
        print(f"crawler eval: --variants-dir {variants.directory}: not an empty folder", file=sys.stderr)
        return 2
    params = HashParams.from_settings(fingerprint, tuple(args.sweep), tuple(args.content_sweep))
    display = _Display() if sys.stderr.isatty() and not args.no_progress else None
    try:
        evaluation = evaluate(source, params, args.workers, display, variants)
    finally:
        if display is not None:
            display.close()
    if not evaluation.inventory.images:
        print(f"crawler eval: {source}: no image to evaluate ({_not_evaluated(evaluation)})", file=sys.stderr)
        return 2
    document = to_document(evaluation)
    written = _write_report(document, args.report) if args.report is not None else None
    console = Console() if sys.stdout.isatty() else Console(width=200)
    show(document, console)
    if written is None:
        return 0 if args.report is None else 1
    console.print(f"Report: {written[0]} and {written[1]}", highlight=False, markup=False)
    return 0


def _not_evaluated(evaluation: Evaluation) -> str:
    """What the files of a source without images were, e.g. "3 files: 2 non-image, 1 under 20,480 bytes"."""
    inventory, min_bytes = evaluation.inventory, evaluation.params.min_image_bytes
    classes = (
        (len(inventory.non_image), "non-image"),
        (len(inventory.small), f"under {min_bytes:,} bytes, see --min-image-bytes"),
        (len(inventory.empty), "empty"),
        (len(inventory.unreadable), "unreadable"),
        (len(inventory.skipped), "skipped"),
    )
    found = ", ".join(f"{count:,} {name}" for count, name in classes if count)
    return f"{inventory.files_seen:,} files" + (f": {found}" if found else "")


def _variant_options(args: argparse.Namespace) -> VariantOptions | None:
    from crawler.evaluation.harness import VariantOptions

    if not (args.variants or args.variants_sample is not None or args.variants_dir is not None):
        return None
    return VariantOptions(args.variants_sample, args.variants_dir)


def _not_empty(directory: Path) -> bool:
    return directory.exists() and (not directory.is_dir() or any(directory.iterdir()))


def report_paths(path: Path) -> tuple[Path, Path]:
    """(Markdown path, JSON path) for ``--report PATH``."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return path.with_suffix(".md"), path
    if suffix == ".md":
        return path, path.with_suffix(".json")
    return path.with_name(path.name + ".md"), path.with_name(path.name + ".json")


def _write_report(document: Document, path: Path) -> tuple[Path, Path] | None:
    """Write both report files before anything is shown (a closed pipe must not lose them)."""
    markdown_path, json_path = report_paths(path)
    try:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(to_markdown(document), encoding="utf-8")
        json_path.write_text(to_json(document), encoding="utf-8")
    except OSError as exc:
        print(f"crawler eval: cannot write the report: {exc}", file=sys.stderr)
        return None
    return markdown_path, json_path


class _Display:
    """A progress bar on stderr, started on the first report (after the workers fork).

    Each phase (hashing the source; making, then hashing, the variants)
    starts again from 0: the bar then starts over.
    """

    def __init__(self) -> None:
        columns = (TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self._bar = Progress(*columns, console=Console(stderr=True), transient=True)
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if self._task is None:
            self._bar.start()
            self._task = self._bar.add_task("eval", total=total)
        elif done == 0:
            self._bar.reset(self._task, total=total)
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
