"""The queue's schema: procrastinate's own, plus the few tables of what procrastinate does not know.

- ``crawler_queue_runs``: each run's settings, as given where it was queued,
  so every worker crawls a run the same way (``limits.per_host`` above all);
- ``crawler_queue_urls``: every listed URL of a run, once: queuing a list
  again adds only the URLs the run does not have;
- ``crawler_queue_results``: each finished batch's counts (the crawl's
  :class:`~crawler.run.stats.Stats`), keyed by its job, so a batch done twice
  counts once;
- ``crawler_take_host_slot``: takes a free slot of a host (an advisory lock),
  in one round trip.

None of this is in the index's migrations (``crawler.index.schema``): the
queue is a separate concern that only shares the database. Creating it is
idempotent and serialised by an advisory lock, so workers that start together
do not race.
"""

from __future__ import annotations

import psycopg
from procrastinate.schema import SchemaManager

_SETUP_LOCK = 1668440440  # next to the index's upgrade lock (crawler.index.database)

TABLES = [
    """CREATE TABLE IF NOT EXISTS crawler_queue_runs (
        run TEXT PRIMARY KEY,
        created TIMESTAMPTZ NOT NULL DEFAULT now(),
        settings JSONB NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS crawler_queue_urls (
        run TEXT NOT NULL,
        url TEXT NOT NULL,
        PRIMARY KEY (run, url)
    )""",
    """CREATE TABLE IF NOT EXISTS crawler_queue_results (
        job_id BIGINT PRIMARY KEY,
        run TEXT NOT NULL,
        host TEXT NOT NULL,
        stats JSONB NOT NULL,
        finished TIMESTAMPTZ NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX IF NOT EXISTS crawler_queue_results_run ON crawler_queue_results (run, host)",
    # Slots are tried from a random one on, so workers asking at once do not all try slot 0 first.
    """CREATE OR REPLACE FUNCTION crawler_take_host_slot(host_key integer, slots integer, held integer[])
    RETURNS integer LANGUAGE plpgsql AS $$
    DECLARE
        first integer := floor(random() * slots);
        slot integer;
    BEGIN
        FOR step IN 0 .. slots - 1 LOOP
            slot := (first + step) % slots;
            IF NOT (slot = ANY (held)) AND pg_try_advisory_lock(host_key, slot) THEN
                RETURN slot;
            END IF;
        END LOOP;
        RETURN NULL;
    END $$""",
]


async def ensure_schema(url: str) -> None:
    """Create procrastinate's schema and ours where they are missing (connection errors propagate)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SETUP_LOCK,))
            found = await (await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).fetchone()
            if not (found and found[0]):
                await conn.execute(SchemaManager.get_schema())
            for statement in TABLES:
                await conn.execute(statement)
