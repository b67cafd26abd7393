"""Command line: parse arguments, load settings, run, map errors to exit codes.

Exit codes: 0 the run completed (per-URL failures are in the records),
1 a worker process died (``limits.processes`` > 1; finished files are kept),
2 usage, settings or input-file errors (nothing was fetched),
130 interrupted by Ctrl-C (finished files are kept; rerun to resume).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from crawler.errors import CrawlerError, OutputError, WorkerFailed
from crawler.evaluation import command as eval_command
from crawler.index import command as index_command
from crawler.match import command as match_command
from crawler.match import known_command
from crawler.match.model import GROUPS
from crawler.models import ImageRecord
from crawler.pages.urls import read_url_list
from crawler.queue import command as queue_command
from crawler.queue.command import QueueCommandError
from crawler.redact import redact_text
from crawler.settings import Settings, load_settings
from crawler.store.files import Store

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_SETTINGS = Path("settings.toml")
DESCRIPTION = (
    "Fingerprint images on the web without downloading them: crawl pages (clearnet and .onion through Tor), "
    "fetch the first bytes of each image with HTTP Range requests and write a JSON record per image."
)
_SHOWN_REJECTED = 5  # bad lines shown one by one; the rest are counted
_SETTINGS_HELP = "settings file (default: ./settings.toml if present)"

# flag destination -> dotted settings key it overrides
_OVERRIDES = {
    "output": "output.dir",
    "concurrency": "limits.concurrency",
    "per_host": "limits.per_host",
    "processes": "limits.processes",
    "prefix_bytes": "fingerprint.prefix_bytes",
    "min_image_bytes": "fingerprint.min_image_bytes",
    "max_rounds": "fingerprint.max_rounds",
    "max_bytes_per_image": "fingerprint.max_bytes_per_image",
    "max_images_per_page": "limits.max_images_per_page",
    "retries": "retries.attempts",
    "timeout": "timeouts.total",
    "user_agent": "http.user_agent",
    "tor_proxy": "tor.proxies",
    "tor_all": "tor.route_all",
    "index": "index.url",
    "index_enabled": "index.enabled",
    "threshold": "index.phash_threshold",
    "band_threshold": "index.band_threshold",
    "queue": "queue.url",
    "batch_size": "queue.batch_size",
    "jobs": "queue.jobs",
    "lease": "queue.lease",
    "only": "queue.only",
    "files": "queue.files",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        flags = {dotted: "--" + dest.replace("_", "-") for dest, dotted in _OVERRIDES.items()}
        settings = load_settings(_settings_path(args.settings), _overrides(args), flags)
        return int(args.run(args, settings))
    except CrawlerError as exc:
        print(f"crawler: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # before or after a crawl's own handling
        print("crawler: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _crawl(args: argparse.Namespace, settings: Settings) -> int:
    # deferred: the crawl imports httpx, SOCKS and retry support, which `eval` and `schema` never use
    from crawler import console
    from crawler.run import launch
    from crawler.run.stats import Stats

    url_list = read_url_list(args.urls)
    for rejected in url_list.rejected[:_SHOWN_REJECTED]:
        print(f"{args.urls}:{rejected.line}: skipped {redact_text(rejected.text)[:200]!r}: {rejected.reason}", file=sys.stderr)
    if len(url_list.rejected) > _SHOWN_REJECTED:
        more = len(url_list.rejected) - _SHOWN_REJECTED
        print(f"{args.urls}: {more} more line(s) skipped as not URLs ({len(url_list.rejected)} in all)", file=sys.stderr)
    if url_list.duplicates:
        print(f"{args.urls}: {url_list.duplicates} duplicate line(s) crawled once", file=sys.stderr)
    if settings.queue.url:  # queue the list for workers; nothing is fetched here
        return queue_command.run_enqueue(settings, url_list.urls, args.run_id)
    if args.run_id is not None:
        raise QueueCommandError("--run: only with --queue (a run of the work queue)")
    stats = Stats()
    interrupted = failed = False
    Store(settings.output.dir).check_writable()  # before any request: exit 2 with the reason
    try:
        launch.crawl(settings, url_list.urls, stats, lambda: console.progress(stats, enabled=not args.no_progress))
    except KeyboardInterrupt:
        interrupted = True
    except (WorkerFailed, OutputError) as exc:
        print(f"crawler: {exc}; the files written so far are kept, rerun to resume", file=sys.stderr)
        failed = True
    console.print_summary(stats, settings.output.dir, interrupted)
    if stats.index_failures:
        print(f"crawler: {stats.index_failures} listed URL(s) written but not indexed; "
              f"`crawler index {settings.output.dir}` rebuilds the index", file=sys.stderr)
    return EXIT_INTERRUPTED if interrupted else EXIT_FAILED if failed else EXIT_OK


def _schema(args: argparse.Namespace, settings: Settings) -> int:
    if args.groups:  # one group per line of `crawler match --format jsonl`
        print(json.dumps(GROUPS.json_schema(), indent=2))
        return EXIT_OK
    schema = {"type": "array", "items": ImageRecord.model_json_schema()}
    print(json.dumps(schema, indent=2))
    return EXIT_OK


def _version() -> str:
    try:
        return metadata.version("crawler")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _settings_path(given: Path | None) -> Path | None:
    if given is not None:
        return given
    return DEFAULT_SETTINGS if DEFAULT_SETTINGS.is_file() else None


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    given = {dest: getattr(args, dest, None) for dest in _OVERRIDES}
    return {_OVERRIDES[dest]: value for dest, value in given.items() if value is not None}


class _CommandModule(Protocol):
    """A command's module (``crawler.index.command``, ...): it adds the command's arguments and runs it."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, settings: Settings) -> int: ...


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crawler", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--settings", type=Path, help=_SETTINGS_HELP)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    # --settings is also taken after the command; given there, it wins
    settings = argparse.ArgumentParser(add_help=False)
    settings.add_argument("--settings", type=Path, default=argparse.SUPPRESS, help=_SETTINGS_HELP)

    crawl = commands.add_parser("crawl", parents=[settings], help="fingerprint the images of the listed pages")
    crawl.add_argument("urls", type=Path, help="file with one page or image URL per line")
    crawl.add_argument("-o", "--output", type=Path, help="output folder (output.dir)")
    crawl.add_argument("--concurrency", type=int, help="requests at once overall (limits.concurrency)")
    crawl.add_argument("--per-host", type=int, help="requests at once per host (limits.per_host)")
    crawl.add_argument("--processes", type=int, help="processes to crawl in; limits are split over them (limits.processes)")
    crawl.add_argument("--prefix-bytes", type=int, help="bytes fetched per image (fingerprint.prefix_bytes)")
    crawl.add_argument("--min-image-bytes", type=int, help="skip smaller images (fingerprint.min_image_bytes)")
    crawl.add_argument("--max-rounds", type=int, help="follow-up range rounds per image, 0: prefix only (fingerprint.max_rounds)")
    crawl.add_argument("--max-bytes-per-image", type=int, help="byte cap per image (fingerprint.max_bytes_per_image)")
    crawl.add_argument("--max-images-per-page", type=int, help="cap per page (limits.max_images_per_page)")
    crawl.add_argument("--retries", type=int, help="attempts per request (retries.attempts)")
    crawl.add_argument("--timeout", type=float, help="seconds per clearnet request (timeouts.total)")
    crawl.add_argument("--user-agent", help="User-Agent header (http.user_agent)")
    crawl.add_argument("--tor-proxy", action="append", metavar="HOST:PORT", help="SOCKS5 proxy; repeatable (tor.proxies)")
    crawl.add_argument("--tor-all", action="store_true", default=None, help="route clearnet through Tor too (tor.route_all)")
    crawl.add_argument("--no-progress", action="store_true", help="no progress display")
    crawl.add_argument("--index", help="index to update: SQLite file or postgresql:// URL (index.url)")
    crawl.add_argument("--no-index", dest="index_enabled", action="store_false", default=None,
                       help="write the JSON files only (index.enabled = false)")
    crawl.add_argument("--queue", metavar="POSTGRESQL_URL",
                       help="queue the list in this database for `crawler worker`s, fetch nothing (queue.url)")
    crawl.add_argument("--run", dest="run_id", help="with --queue: the run to add the URLs to (default: a new run)")
    crawl.add_argument("--batch-size", type=int, help="with --queue: listed URLs per batch (queue.batch_size)")
    crawl.set_defaults(run=_crawl)

    worker = commands.add_parser("worker", parents=[settings], help="crawl batches from the work queue (any number, any machine)")
    queue_command.add_worker_arguments(worker)
    worker.set_defaults(run=queue_command.run_worker)

    status = commands.add_parser("status", parents=[settings], help="what the work queue holds: queued, running, done, failed")
    queue_command.add_status_arguments(status)
    status.set_defaults(run=queue_command.run_status)

    schema = commands.add_parser("schema", parents=[settings], help="print the JSON Schema of the output files")
    schema.add_argument("--groups", action="store_true", help="the schema of a line of `crawler match --format jsonl`")
    schema.set_defaults(run=_schema)

    # The commands with a module of their own, which adds their arguments and runs them.
    modules: tuple[tuple[str, str, _CommandModule], ...] = (
        ("eval", "measure false positives of fingerprints on an image folder", eval_command),
        ("index", "(re)build the fingerprint index from the JSON files", index_command),
        ("match", "groups of the same image across URLs, pages, hosts and runs", match_command),
        ("known", "known-image sets: fingerprints of images you hold, to match against", known_command),
    )
    for name, text, module in modules:
        command = commands.add_parser(name, parents=[settings], help=text)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser
