"""What the queue holds: batches queued, running, done and failed, per run and per host, and their counts.

Read from procrastinate's job table (each job's arguments name its run, host
and URLs) and from ``crawler_queue_results`` (each finished batch's counts,
as a crawl's summary shows them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg

from crawler.queue.app import TASK, QueueUnusable

STATES = ("queued", "running", "done", "failed")
_STATE_OF = {"todo": "queued", "doing": "running", "succeeded": "done",
             "failed": "failed", "cancelled": "failed", "aborted": "failed"}


@dataclass
class HostStatus:
    batches: Counter[str] = field(default_factory=Counter)  # state -> batches
    urls: Counter[str] = field(default_factory=Counter)  # state -> listed URLs
    counts: list[dict[str, Any]] = field(default_factory=list)  # each finished batch's Stats, as saved


@dataclass
class RunStatus:
    run: str
    hosts: dict[str, HostStatus]

    def total(self) -> HostStatus:
        whole = HostStatus()
        for host in self.hosts.values():
            whole.batches.update(host.batches)
            whole.urls.update(host.urls)
            whole.counts.extend(host.counts)
        return whole


async def read_status(url: str, run: str | None) -> RunStatus:
    """The status of ``run`` (the newest run when None)."""
    async with await _connect(url) as conn:
        run = run or await _newest_run(conn)
        hosts: dict[str, HostStatus] = {}
        cursor = await conn.execute(
            "SELECT args->>'host', status::text, count(*), sum(jsonb_array_length(args->'urls')) "
            "FROM procrastinate_jobs WHERE task_name = %s AND args->>'run' = %s GROUP BY 1, 2", (TASK, run))
        for host, status, batches, urls in await cursor.fetchall():
            state = hosts.setdefault(str(host), HostStatus())
            state.batches[_STATE_OF.get(str(status), "failed")] += int(str(batches))
            state.urls[_STATE_OF.get(str(status), "failed")] += int(str(urls))
        cursor = await conn.execute("SELECT host, stats FROM crawler_queue_results WHERE run = %s", (run,))
        for host, stats in await cursor.fetchall():
            hosts.setdefault(str(host), HostStatus()).counts.append(dict(stats))
    return RunStatus(run, hosts)


async def run_settings(url: str, run: str) -> dict[str, Any]:
    """The settings run ``run`` was queued with."""
    async with await _connect(url) as conn:
        cursor = await conn.execute("SELECT settings FROM crawler_queue_runs WHERE run = %s", (run,))
        row = await cursor.fetchone()
    if row is None:
        raise QueueUnusable(f"the queue has no run {run!r}")
    return dict(row[0])


async def pending_jobs(conn: psycopg.AsyncConnection[tuple[Any, ...]], queues: list[str]) -> int:
    """Batches queued or running in ``queues``."""
    cursor = await conn.execute(
        "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') AND queue_name = ANY(%s)",
        (queues,))
    row = await cursor.fetchone()
    return int(str(row[0])) if row else 0


async def _newest_run(conn: psycopg.AsyncConnection[tuple[Any, ...]]) -> str:
    row = await (await conn.execute("SELECT run FROM crawler_queue_runs ORDER BY created DESC LIMIT 1")).fetchone()
    if row is None:
        raise QueueUnusable("the queue holds no run yet: `crawler crawl URLS --queue ...` queues one")
    return str(row[0])


async def _connect(url: str) -> psycopg.AsyncConnection[tuple[Any, ...]]:
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    found = await (await conn.execute("SELECT to_regclass('crawler_queue_runs') IS NOT NULL")).fetchone()
    if not (found and found[0]):
        await conn.close()
        raise QueueUnusable("this database holds no crawl queue: `crawler crawl URLS --queue ...` creates it")
    return conn
