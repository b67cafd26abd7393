"""A queue worker: takes batches from the PostgreSQL work queue and crawls them with the usual pipeline.

``crawler worker --queue postgresql://...`` runs this on any machine, as
many times as wanted. Each batch (one host's listed URLs) goes through
:class:`~crawler.run.crawl.Crawl`, the same pipeline as a local crawl, with
the run's settings as they were queued (this machine keeps its own
``limits.concurrency``, ``limits.probing``, ``tor``, ``safety``, ``output``
and ``queue`` sections: what the machine can do and may reach). Every
request holds one of its host's fleet-wide slots
(:class:`~crawler.queue.slots.FleetSlots`). A batch's records go into the index in one transaction with its counts, and
only then is the batch reported done (``crawler.queue.results``); JSON files
are written too with ``queue.files``.

Work is never lost: a worker that dies stops sending heartbeats, and after
``queue.lease`` seconds any other worker hands its batches back to the
queue (procrastinate's stalled jobs, retried here). A worker that loses the
database waits for it and goes on (its running batches finish and wait to
be saved; procrastinate's own worker is started again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import procrastinate
import psycopg
from procrastinate.exceptions import ProcrastinateException

from crawler.models import ImageRecord
from crawler.net.fetch import Fetcher
from crawler.queue.app import TASK, new_app, queues_for
from crawler.queue.connection import Reconnecting
from crawler.queue.enqueue import index_url
from crawler.queue.results import BatchWriter
from crawler.queue.status import pending_jobs, run_settings
from crawler.queue.slots import FleetSlots
from crawler.queue.tables import ensure_schema
from crawler.run.crawl import Crawl
from crawler.run.stats import Stats, as_json, copy_into, total
from crawler.settings import Settings
from crawler.store.files import Store

T = TypeVar("T")
log = logging.getLogger("crawler.queue")
_DONE_CHECK_SECONDS = 1.0  # how often --until-done looks whether work is left


class BatchStore(Store):
    """One batch's store: keeps its records for the index; JSON files only when ``files``."""

    def __init__(self, root: Path, files: bool) -> None:
        super().__init__(root)
        self.files = files
        self.records: list[ImageRecord] = []

    def is_done(self, url: str) -> bool:
        return False  # the queue says what is done; a file may be from a batch that never finished

    def write(self, url: str, records: list[ImageRecord]) -> Path:
        path = super().write(url, records) if self.files else self.path_for(url)
        self.records.extend(records)
        return path


@dataclass
class _Run:
    settings: Settings
    fetcher: Fetcher
    slots: FleetSlots
    writer: BatchWriter


def merged_settings(local: Settings, queued: dict[str, Any]) -> Settings:
    """The run's settings as queued, with this machine's own capacity, Tor proxies, safety, output and queue sections.

    Safety is the machine's: which networks it may reach (``public_networks``,
    ``allow_private_targets``) depends on where it stands, and a queue's
    database must not widen it.
    """
    mine = local.model_dump(mode="json")
    merged = {**queued, **{section: mine[section] for section in ("tor", "safety", "output", "queue")}}
    merged["limits"] = {**queued["limits"], "processes": 1,
                        **{key: mine["limits"][key] for key in ("concurrency", "probing")}}
    return Settings.model_validate(merged)


class QueueWorker:
    """Serves the queue at ``settings.queue.url`` until stopped (or, with ``until_done``, until no work is left)."""

    def __init__(self, settings: Settings, stats: Stats, until_done: bool = False) -> None:
        self.settings = settings
        self.url = settings.queue.url
        self.stats = stats
        self.until_done = until_done
        self._runs: dict[str, _Run] = {}
        self._opening = asyncio.Lock()  # batches of a run new to this worker start together: one opens it
        self._done: list[Stats] = []
        self._stopping = False

    async def serve(self) -> None:
        await self._when_reachable(lambda: ensure_schema(self.url))
        app = new_app(self.url)
        attempts = self.settings.queue.attempts
        # procrastinate counts retries after the first attempt; False: none
        retry: procrastinate.RetryStrategy | bool = (
            procrastinate.RetryStrategy(max_attempts=attempts - 1, exponential_wait=2) if attempts > 1 else False
        )
        app.task(name=TASK, pass_context=True, retry=retry)(self._batch)
        try:
            while not self._stopping:
                try:
                    await self._serve_once(app)
                except (psycopg.Error, ProcrastinateException, OSError) as exc:
                    log.warning("the queue database failed (%s); waiting for it", exc)
                if not self._stopping:
                    await self._when_reachable(self._ping)
        finally:
            for run in self._runs.values():
                await run.fetcher.__aexit__(None, None, None)
                await run.slots.close()
                await run.writer.close()

    async def _serve_once(self, app: procrastinate.App) -> None:
        """Run procrastinate's worker until it stops (the database lost) or no work is left (``until_done``)."""
        lease = self.settings.queue.lease
        async with app.open_async():
            worker = asyncio.create_task(app.run_worker_async(
                queues=queues_for(self.settings.queue.only), concurrency=self.settings.queue.jobs,
                install_signal_handlers=False, update_heartbeat_interval=lease / 3,
                stalled_worker_timeout=lease, shutdown_graceful_timeout=lease,
            ))
            recover = asyncio.create_task(self._recover_stalled(app))
            finished = asyncio.create_task(self._no_work_left() if self.until_done else asyncio.Event().wait())
            try:
                await asyncio.wait({worker, finished}, return_when=asyncio.FIRST_COMPLETED)
                self._stopping = self._stopping or finished.done()
            finally:
                for helper in (recover, finished):
                    helper.cancel()
                await asyncio.gather(recover, finished, return_exceptions=True)
                if not worker.done():
                    worker.cancel()  # procrastinate lets running batches finish (up to queue.lease seconds)
                    await asyncio.gather(worker, return_exceptions=True)
            error = worker.exception() if worker.done() and not worker.cancelled() else None
            if error is not None:
                raise error

    async def _batch(self, context: procrastinate.JobContext, run: str, host: str, urls: list[str]) -> None:
        """One job: crawl the batch, save its records and counts (waiting for the database if need be)."""
        state = await self._run(run)
        stats = Stats(processes=0)  # the worker is one process, whatever the number of its batches
        store = BatchStore(state.settings.output.dir, self.settings.queue.files)
        await Crawl(state.settings, state.fetcher, store, stats).run(urls)
        assert context.job.id is not None
        await state.writer.save(context.job.id, run, host, store.records, as_json(stats))
        self._done.append(stats)
        copy_into(total(self._done), self.stats)

    async def _run(self, run: str) -> _Run:
        async with self._opening:
            if run not in self._runs:
                self._runs[run] = await self._open_run(run)
        return self._runs[run]

    async def _open_run(self, run: str) -> _Run:
        """The run's settings as queued, and its fetcher, fleet slots and writer on this machine."""
        queued = await self._when_reachable(lambda: run_settings(self.url, run))
        settings = merged_settings(self.settings, queued)
        slots = FleetSlots(self.url, settings.limits.per_host)
        await slots.open()
        writer = BatchWriter(self.url, index_url(settings.index.url, self.url))
        await writer.open()
        return _Run(settings, Fetcher(settings, host_slots=slots), slots, writer)

    async def _recover_stalled(self, app: procrastinate.App) -> None:
        """Hand the batches of workers silent for ``queue.lease`` seconds back to the queue."""
        lease = self.settings.queue.lease
        while True:
            await asyncio.sleep(lease / 2)
            try:
                for job in await app.job_manager.get_stalled_jobs(task_name=TASK, seconds_since_heartbeat=lease):
                    with contextlib.suppress(psycopg.Error, ProcrastinateException):  # another worker was first
                        await app.job_manager.retry_job(job)
                        log.warning("batch %s of a silent worker handed back to the queue", job.id)
            except (psycopg.Error, ProcrastinateException) as exc:
                log.warning("cannot look for stalled batches now (%s)", exc)

    async def _no_work_left(self) -> None:
        """Returns once no batch is queued or running in this worker's queues."""
        queues = queues_for(self.settings.queue.only)
        check = Reconnecting(self.url)  # one connection for every check: a new one each second would cost a backend
        await check.open()
        try:
            while await check.run(lambda conn: pending_jobs(conn, queues)):
                await asyncio.sleep(_DONE_CHECK_SECONDS)
        finally:
            await check.close()

    async def _ping(self) -> None:
        async with await psycopg.AsyncConnection.connect(self.url) as conn:
            await conn.execute("SELECT 1")

    async def _when_reachable(self, action: Callable[[], Awaitable[T]]) -> T:
        """``await action()``, waiting for the database for as long as it cannot be reached."""
        while True:
            probe = Reconnecting(self.url)
            await probe.open()  # returns once a connection opens
            await probe.close()
            try:
                return await action()
            except psycopg.OperationalError as exc:
                log.warning("the queue database failed (%s); waiting for it", exc)
