"""``crawler crawl URLS --queue``, ``crawler worker`` and ``crawler status``: the queue's commands.

The database driver, procrastinate and the display are imported when a
queue command runs, not when the CLI starts: every other command would pay
for them.

Exit codes as a crawl's: 0 done, 2 usage or an unreachable queue (nothing
was queued or crawled), 130 interrupted (a worker's running batches go back
to the queue, to be crawled again by whichever worker takes them).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from crawler.errors import CrawlerError
from crawler.redact import redact_text, redact_url
from crawler.settings import Settings

if TYPE_CHECKING:
    from crawler.queue.status import HostStatus
    from crawler.run.stats import Stats

T = TypeVar("T")
EXIT_OK, EXIT_INTERRUPTED = 0, 130
_NEEDS_QUEUE = "needs the queue's database: --queue postgresql://user@host/db (queue.url)"


class QueueCommandError(CrawlerError):
    """A queue command cannot run as asked; the message names the flag."""


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", metavar="POSTGRESQL_URL", help="the queue's database (queue.url)")
    parser.add_argument("-o", "--output", type=Path, help="folder of the JSON files, with --files (output.dir)")
    parser.add_argument("--files", action="store_true", default=None,
                        help="also write the JSON files, as a local crawl does (queue.files)")
    kinds = parser.add_mutually_exclusive_group()
    kinds.add_argument("--only", choices=["onion", "clearnet"],
                       help="take only batches of this kind: onion (a machine with Tor) or clearnet (queue.only)")
    kinds.add_argument("--no-onion", dest="only", action="store_const", const="clearnet",
                       help="take no batch of .onion hosts: for a machine without Tor (queue.only = \"clearnet\")")
    parser.add_argument("--jobs", type=int, help="batches crawled at once (queue.jobs)")
    parser.add_argument("--concurrency", type=int, help="requests at once overall on this machine (limits.concurrency)")
    parser.add_argument("--tor-proxy", action="append", metavar="HOST:PORT", help="SOCKS5 proxy; repeatable (tor.proxies)")
    parser.add_argument("--lease", type=float, metavar="SECONDS",
                        help="a worker silent this long has its batches handed to others (queue.lease)")
    parser.add_argument("--until-done", action="store_true", help="stop when no batch is queued or running")
    parser.add_argument("--no-progress", action="store_true", help="no progress display")


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", metavar="POSTGRESQL_URL", help="the queue's database (queue.url)")
    parser.add_argument("--run", dest="run_id", help="which run (default: the newest)")
    parser.add_argument("--hosts", action="store_true", help="a line per host")
    parser.add_argument("--format", choices=["table", "json"], default="table", help="output format (default: table)")


def run_enqueue(settings: Settings, urls: list[str], run: str | None) -> int:
    """``crawler crawl URLS --queue``: queue the list, fetch nothing."""
    from crawler.queue.enqueue import enqueue, new_run_id

    done = _on_queue(settings, lambda: enqueue(settings, urls, run or new_run_id()))
    print(done.run)
    print(f"crawler: queued {done.added} listed URL(s) in {done.batches} batch(es) as run {done.run}"
          f"{f'; {done.listed - done.added} were in the run already' if done.listed > done.added else ''}; "
          f"crawl them with `crawler worker --queue ...`", file=sys.stderr)
    return EXIT_OK


def run_worker(args: argparse.Namespace, settings: Settings) -> int:
    from crawler import console
    from crawler.run.stats import Stats
    from crawler.run.worker import QueueWorker

    _require_queue(settings)
    _log_in_one_line()
    stats = Stats(listed=0)
    worker = QueueWorker(settings, stats, until_done=args.until_done)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C
    interrupted = False
    try:
        with console.progress(stats, enabled=not args.no_progress):
            _on_queue(settings, worker.serve)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGTERM, previous)
    output = settings.output.dir if settings.queue.files else "the index only (no --files)"
    console.print_summary(stats, output, interrupted)
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from crawler import console
    from crawler.queue.status import read_status

    _require_queue(settings)
    status = _on_queue(settings, lambda: read_status(settings.queue.url, args.run_id))
    hosts = status.hosts if args.hosts else {}
    if args.format == "json":
        print(json.dumps({"run": status.run, **_as_json(status.total()),
                          "hosts": {host: _as_json(state) for host, state in sorted(hosts.items())}}, indent=2))
        return EXIT_OK
    out = Console(highlight=False)
    whole = status.total()
    out.print(console.table_of([*_state_rows(whole), *console.summary_rows(_stats(whole))], f"run {status.run}"))
    for host, state in sorted(hosts.items()):
        out.print(console.table_of([*_state_rows(state), *console.summary_rows(_stats(state))], f"host {host}"))
    return EXIT_OK


def _stats(state: HostStatus) -> Stats:
    from crawler.run.stats import from_json, total

    summed = total(from_json(counts) for counts in state.counts)
    summed.listed = sum(state.urls.values())
    return summed


def _state_rows(state: HostStatus) -> list[tuple[str, str]]:
    from crawler.queue.status import STATES

    return [(name, f"{state.batches[name]} batches, {state.urls[name]} listed URLs") for name in STATES]


def _as_json(state: HostStatus) -> dict[str, Any]:
    from crawler.queue.status import STATES

    stats = _stats(state)
    return {
        "batches": {name: state.batches[name] for name in STATES},
        "urls": {name: state.urls[name] for name in STATES},
        "summary": {**{key: value for key, value in vars(stats).items() if key != "errors"}, "errors": dict(stats.errors)},
    }


class _OneLine(logging.Formatter):
    """A warning per line: the database going away is expected, and waited out, not a bug to trace."""

    def formatException(self, ei: Any) -> str:
        return f"  ({ei[0].__name__}: {' '.join(str(ei[1]).split())})"


def _log_in_one_line() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_OneLine("crawler: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def _require_queue(settings: Settings) -> None:
    if not settings.queue.url:
        raise QueueCommandError(_NEEDS_QUEUE)


def _on_queue(settings: Settings, action: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine function ``action``; a database that cannot be reached is a usage error naming --queue."""
    import asyncio

    import psycopg

    try:
        return asyncio.run(action())
    except psycopg.OperationalError as exc:
        raise QueueCommandError(f"--queue: cannot use {redact_url(settings.queue.url)}: "
                                f"{redact_text(str(exc)).strip()}") from None
