"""One crawl, run in this process or spread over several (``limits.processes``).

A crawl with high concurrency on a fast link is CPU-bound: each image costs
about 1.6 ms of Python (HTTP parsing, EXIF, hashing) and one event
loop uses one core. With ``processes`` above 1 the listed URLs are dealt out
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
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.synchronize import Event
from urllib.parse import urlsplit

from crawler import perceptual
from crawler.errors import CrawlerError
from crawler.fetch import Fetcher
from crawler.index import crawling as index_run
from crawler.pipeline import Crawl, Stats
from crawler.settings import Settings
from crawler.store import Store

_REPORT_SECONDS = 0.25  # how often a worker sends its counts (and checks for a stop)
_INTERRUPTED = 130


Report = tuple[int, Stats, bool]  # worker index, its counts so far, whether they are final


class WorkerFailed(CrawlerError):
    """A worker process ended without finishing its share (killed, out of memory...)."""


Display = Callable[[], AbstractContextManager[object]]


def crawl(settings: Settings, urls: list[str], stats: Stats, display: Display = nullcontext) -> None:
    """Crawl ``urls`` into ``settings.output.dir``, counting into ``stats``, inside ``display()``.

    Raises KeyboardInterrupt after a Ctrl-C (finished files are kept) and
    :class:`WorkerFailed` when a worker process died. Workers start before
    the display does: a process forked while a display thread holds a lock
    could hang on it.
    """
    Store(settings.output.dir).remove_partial_files()
    run_id = index_run.start_run(settings)
    count = process_count(settings, len(urls))
    if count == 1:
        with display():
            asyncio.run(_crawl(settings, urls, stats, run_id))
        return
    _crawl_in_workers(settings, deal(urls, count), stats, display, run_id)


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
        }
    )
    return settings.model_copy(update={"limits": limits})


def total(parts: Iterable[Stats]) -> Stats:
    """The sum of several workers' counts."""
    result = Stats(processes=0)  # each part counts itself
    for part in parts:
        for field in dataclasses.fields(Stats):
            setattr(result, field.name, getattr(result, field.name) + getattr(part, field.name))
    return result


async def _crawl(settings: Settings, urls: list[str], stats: Stats, run_id: str | None) -> None:
    store = index_run.open_store(settings, run_id)  # each process its own index connection
    try:
        async with Fetcher(settings) as fetcher:
            await Crawl(settings, fetcher, store, stats).run(urls)
    finally:
        stats.index_failures += index_run.close_store(store)


# -- several processes ---------------------------------------------------------


def _crawl_in_workers(settings: Settings, shards: list[list[str]], stats: Stats, display: Display,
                      run_id: str | None) -> None:
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
    # Each worker would import SciPy (0.3 s of CPU, its event loop stalled
    # with every request in flight) at its first thumbnail; forked, they share this one.
    perceptual.preload()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # workers are born ignoring Ctrl-C
    try:
        for worker in workers:
            worker.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    interrupted = False
    with display():
        while True:
            try:
                _collect(reports, latest, workers, stats)
                break
            except KeyboardInterrupt:  # tell the workers; keep collecting until they have stopped
                interrupted = True
                stop.set()
    _copy(total(latest), stats)
    failed = [f"{worker.name} (exit code {worker.exitcode})" for worker in workers
              if worker.exitcode not in (0, _INTERRUPTED)]
    if failed:
        raise WorkerFailed(f"{', '.join(failed)} stopped early; its finished files are kept, rerun to resume")
    if interrupted or any(worker.exitcode == _INTERRUPTED for worker in workers):
        raise KeyboardInterrupt


def _context() -> ForkContext | SpawnContext:
    # fork starts a worker in milliseconds with every module already imported
    return multiprocessing.get_context("fork") if sys.platform == "linux" else multiprocessing.get_context("spawn")


def _collect(reports: multiprocessing.Queue[Report], latest: list[Stats],
             workers: Sequence[multiprocessing.process.BaseProcess], stats: Stats) -> None:
    """Take snapshots into ``stats`` until every worker has sent its last one or died."""
    finished: set[int] = set()
    while len(finished) < len(workers):
        try:
            index, snapshot, last = reports.get(timeout=_REPORT_SECONDS)
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers):
                break
            continue
        latest[index] = snapshot
        _copy(total(latest), stats)
        if last:
            finished.add(index)
    for worker in workers:
        worker.join()


def _copy(source: Stats, target: Stats) -> None:
    for field in dataclasses.fields(Stats):
        setattr(target, field.name, getattr(source, field.name))


def _worker_main(settings: Settings, urls: list[str], index: int,
                 reports: multiprocessing.Queue[Report], stop: Event, parent: int, run_id: str | None) -> None:
    """A worker process: crawl ``urls``, report counts, stop when told or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides, and tells us through ``stop``
    stats = Stats()
    stopped = asyncio.run(_worker_crawl(settings, urls, stats, index, reports, stop, parent, run_id))
    reports.put((index, stats, True))
    reports.close()
    reports.join_thread()
    sys.exit(_INTERRUPTED if stopped else 0)


async def _worker_crawl(settings: Settings, urls: list[str], stats: Stats, index: int,
                        reports: multiprocessing.Queue[Report], stop: Event, parent: int, run_id: str | None) -> bool:
    """Run the crawl beside a reporter; True when it was stopped before the end."""
    run = asyncio.create_task(_crawl(settings, urls, stats, run_id))
    while not run.done():
        await asyncio.wait([run], timeout=_REPORT_SECONDS)
        reports.put((index, dataclasses.replace(stats, errors=Counter(stats.errors)), False))
        if not run.done() and (stop.is_set() or os.getppid() != parent):
            run.cancel()
    try:
        await run
    except asyncio.CancelledError:
        return True
    return False
