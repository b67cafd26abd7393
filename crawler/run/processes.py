"""One crawl spread over several processes (``limits.processes`` above 1).

A crawl with high concurrency on a fast link is CPU-bound: each image costs
some Python (HTTP parsing, EXIF, hashing; measured in bench/README.md) and one
event loop uses one core. With ``processes`` above 1 the listed URLs are dealt out
to that many worker processes, each running the same pipeline on its share:

- ``concurrency`` and ``per_host`` are totals, split evenly over the
  processes, so a host never sees more requests in flight than ``per_host``;
  there are never more processes than ``per_host``, ``concurrency`` or
  listed URLs allow;
- each host's URLs are dealt round-robin over the processes, so a site with
  many listed pages is crawled by all of them, each within its share;
- every process writes its own listed URLs' files (atomically, as always);
  leftover temporary files are removed once, before any process starts;
- progress comes back as :class:`Stats` snapshots, summed for the display;
- on Ctrl-C (or when this process dies) every worker stops the way a single
  run does, keeping its finished files.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import queue
import signal
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.synchronize import Event
from urllib.parse import urlsplit

from crawler.errors import OutputError, WorkerFailed
from crawler.fingerprint import perceptual
from crawler.run.crawl import crawl_urls
from crawler.run.stats import Stats, copy_into, total
from crawler.settings import Settings

_REPORT_SECONDS = 0.25  # how often a worker sends its counts (and checks for a stop)
_INTERRUPTED = 130


Report = tuple[int, Stats, bool, str | None]  # worker index, its counts so far, whether final, why it failed


Display = Callable[[], AbstractContextManager[object]]


def process_count(settings: Settings, listed: int) -> int:
    """How many processes to use: as asked, but each needs a share of every limit and a URL."""
    limits = settings.limits
    return max(1, min(limits.processes, limits.per_host, limits.concurrency, listed))


def deal(urls: list[str], count: int) -> list[list[str]]:
    """Deal URLs to ``count`` shards: each host's URLs round-robin, each host starting on the next shard."""
    shards: list[list[str]] = [[] for _ in range(count)]
    next_shard: dict[str, int] = {}
    first = 0
    for url in urls:
        host = urlsplit(url).hostname or ""
        if host not in next_shard:
            next_shard[host] = first
            first = (first + 1) % count
        shard = next_shard[host]
        shards[shard].append(url)
        next_shard[host] = (shard + 1) % count
    return shards


def share(total: int, count: int, index: int) -> int:
    """Worker ``index``'s part of ``total`` split over ``count``; the parts add up to ``total``."""
    return total // count + (1 if index < total % count else 0)


def worker_settings(settings: Settings, count: int, index: int) -> Settings:
    limits = settings.limits.model_copy(
        update={
            "processes": 1,
            "concurrency": share(settings.limits.concurrency, count, index),
            "per_host": share(settings.limits.per_host, count, index),
            "max_pages_per_host": share(settings.limits.max_pages_per_host, count, index),
        }
    )
    return settings.model_copy(update={"limits": limits})


# -- several processes ---------------------------------------------------------


def crawl_in_workers(
    settings: Settings, urls: list[str], count: int, stats: Stats, display: Display, run_id: str | None
) -> None:
    """Crawl ``urls`` in ``count`` worker processes, counting into ``stats``, inside ``display()``.

    Raises KeyboardInterrupt after a Ctrl-C (finished files are kept),
    :class:`OutputError` when a worker could not write its output, and
    :class:`WorkerFailed` when a worker process died. Workers start before
    the display does: a process forked while a display thread holds a lock
    could hang on it.
    """
    shards = deal(urls, count)
    context = _context()
    reports: multiprocessing.Queue[Report] = context.Queue()
    stop = context.Event()
    workers = [
        context.Process(
            target=_worker_main,
            args=(worker_settings(settings, len(shards), index), shard, index, reports, stop, os.getpid(), run_id),
            name=f"crawler-worker-{index}",
        )
        for index, shard in enumerate(shards)
    ]
    latest = [Stats(listed=len(shard)) for shard in shards]
    # Each worker would import SciPy (a noticeable share of a second of CPU, its event loop stalled
    # with every request in flight) at its first thumbnail; forked, they share this one.
    perceptual.preload()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # workers are born ignoring Ctrl-C
    try:
        for worker in workers:
            worker.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    interrupted = False
    errors: list[str] = []
    with display():
        while True:
            try:
                _collect(reports, latest, workers, stats, errors, stop)
                break
            except KeyboardInterrupt:  # tell the workers; keep collecting until they have stopped
                interrupted = True
                stop.set()
    copy_into(total(latest), stats)
    if errors:  # a write failed (disk full): the others were told to stop too
        raise OutputError(errors[0])
    failed = [f"{worker.name} (exit code {worker.exitcode})" for worker in workers
              if worker.exitcode not in (0, _INTERRUPTED)]
    if failed:
        raise WorkerFailed(f"{', '.join(failed)} stopped early")
    if interrupted or any(worker.exitcode == _INTERRUPTED for worker in workers):
        raise KeyboardInterrupt


def _context() -> ForkContext | SpawnContext:
    # fork starts a worker in milliseconds with every module already imported
    return multiprocessing.get_context("fork") if sys.platform == "linux" else multiprocessing.get_context("spawn")


def _collect(reports: multiprocessing.Queue[Report], latest: list[Stats],
             workers: Sequence[multiprocessing.process.BaseProcess], stats: Stats, errors: list[str], stop: Event) -> None:
    """Take snapshots into ``stats`` until every worker has sent its last one or died.

    A worker whose output cannot be written reports why; every worker is then
    told to stop, as one process would stop at its first failed write.
    """
    finished: set[int] = set()
    while len(finished) < len(workers):
        try:
            index, snapshot, last, error = reports.get(timeout=_REPORT_SECONDS)
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers):
                break
            continue
        latest[index] = snapshot
        copy_into(total(latest), stats)
        if error is not None:
            errors.append(error)
            stop.set()
        if last:
            finished.add(index)
    for worker in workers:
        worker.join()


def _worker_main(settings: Settings, urls: list[str], index: int,
                 reports: multiprocessing.Queue[Report], stop: Event, parent: int, run_id: str | None) -> None:
    """A worker process: crawl ``urls``, report counts, stop when told or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides, and tells us through ``stop``
    stats = Stats()
    error: str | None = None
    try:
        stopped = asyncio.run(_worker_crawl(settings, urls, stats, index, reports, stop, parent, run_id))
    except OutputError as exc:
        stopped, error = False, str(exc)
    reports.put((index, stats, True, error))
    reports.close()
    reports.join_thread()
    sys.exit(_INTERRUPTED if stopped else 0)


async def _worker_crawl(settings: Settings, urls: list[str], stats: Stats, index: int,
                        reports: multiprocessing.Queue[Report], stop: Event, parent: int, run_id: str | None) -> bool:
    """Run the crawl beside a reporter; True when it was stopped before the end."""
    run = asyncio.create_task(crawl_urls(settings, urls, stats, run_id))
    while not run.done():
        await asyncio.wait([run], timeout=_REPORT_SECONDS)
        reports.put((index, dataclasses.replace(stats, errors=Counter(stats.errors)), False, None))
        if not run.done() and (stop.is_set() or os.getppid() != parent):
            run.cancel()
    try:
        await run
    except asyncio.CancelledError:
        return True
    return False
