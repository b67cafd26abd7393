"""Putting a list into the queue: batches of one host's URLs, each listed URL once per run.

``crawler crawl URLS --queue ...`` fetches nothing: it stores the run's
settings (the first queuing of a run sets them), registers the run in the
index, and defers one job per batch of at most ``queue.batch_size`` URLs of
one host. The URLs a run already has are left out, so queuing the same list
twice does not crawl it twice. A host's URLs are marked and their jobs
deferred under one transaction's row locks: marks are committed only once
the jobs exist, so a failure in between loses nothing (the list can be
queued again), and two people queuing the same list at once wait for each
other instead of both adding it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import procrastinate
import psycopg
from procrastinate.types import JSONDict, JSONValue

from crawler.index.database import connect as connect_index
from crawler.index.database import is_postgresql
from crawler.index.writer import register_run
from crawler.queue.app import TASK, host_of, kind_of, lock_of, new_app
from crawler.queue.tables import ensure_schema
from crawler.settings import Settings


@dataclass(frozen=True)
class Enqueued:
    run: str
    listed: int
    added: int  # URLs new to the run
    batches: int


def new_run_id() -> str:
    return f"queue-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def index_url(index: str, queue: str) -> str:
    """Where the records go: the PostgreSQL index ``index`` (``index.url``) if it names one, else the queue's database."""
    return index if is_postgresql(index) else queue


async def enqueue(settings: Settings, urls: list[str], run: str) -> Enqueued:
    """Queue ``urls`` (normalised, without duplicates) as run ``run``."""
    url = settings.queue.url
    await ensure_schema(url)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        if await _new_run(conn, run, settings):
            _register_in_index(settings, run)
        app = new_app(url, pool_size=1)
        async with app.open_async():
            added = batches = 0
            for host, host_urls in _by_host(urls).items():
                new, deferred = await _enqueue_host(conn, app, run, host, host_urls, settings.queue.batch_size)
                added, batches = added + new, batches + deferred
    return Enqueued(run, len(urls), added, batches)


async def _new_run(conn: psycopg.AsyncConnection[tuple[object, ...]], run: str, settings: Settings) -> bool:
    stored = settings.model_dump(mode="json")
    stored["index"]["url"] = settings.index.url if is_postgresql(settings.index.url) else ""
    cursor = await conn.execute(
        "INSERT INTO crawler_queue_runs (run, settings) VALUES (%s, %s) ON CONFLICT (run) DO NOTHING RETURNING run",
        (run, json.dumps(stored)),
    )
    return await cursor.fetchone() is not None


def _register_in_index(settings: Settings, run: str) -> None:
    """The run's id in the index's ``runs`` table, as a local crawl registers its own."""
    database = connect_index(index_url(settings.index.url, settings.queue.url))
    try:
        register_run(database, run, "queue")
    finally:
        database.close()


def _by_host(urls: list[str]) -> dict[str, list[str]]:
    hosts: dict[str, list[str]] = {}
    for url in urls:
        hosts.setdefault(host_of(url), []).append(url)
    return hosts


async def _enqueue_host(conn: psycopg.AsyncConnection[tuple[object, ...]], app: procrastinate.App, run: str,
                        host: str, urls: list[str], size: int) -> tuple[int, int]:
    """Mark ``host``'s URLs new to the run and defer their batches; (URLs added, batches deferred)."""
    async with conn.transaction():
        cursor = await conn.execute(
            "INSERT INTO crawler_queue_urls (run, url) SELECT %s, unnest(%s::text[]) "
            "ON CONFLICT DO NOTHING RETURNING url",
            (run, urls),
        )
        fresh = {str(row[0]) for row in await cursor.fetchall()}
        new = [url for url in urls if url in fresh]  # the list's order
        if not new:
            return 0, 0
        jobs: list[JSONDict] = [{"run": run, "host": host, "urls": batch} for batch in _batches(new, size)]
        deferrer = app.configure_task(TASK, lock=lock_of(host), queue=kind_of(host))
        await deferrer.batch_defer_async(*jobs)
    return len(new), len(jobs)


def _batches(urls: list[str], size: int) -> Iterator[list[JSONValue]]:
    values: list[JSONValue] = list(urls)
    for start in range(0, len(urls), size):
        yield values[start:start + size]
