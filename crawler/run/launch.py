"""Where a crawl starts: in this process, or in worker processes when ``limits.processes`` asks for more.

Leftover temporary files of a killed run are removed first, once, before any
worker could be writing its own.
"""

from __future__ import annotations

import asyncio

from crawler.index import crawling as index_run
from crawler.run.crawl import crawl_urls
from crawler.run.processes import Display, crawl_in_workers, process_count
from crawler.run.stats import Stats
from crawler.settings import Settings
from crawler.store.files import Store


def crawl(settings: Settings, urls: list[str], stats: Stats, display: Display) -> None:
    """Crawl ``urls`` into ``settings.output.dir``, counting into ``stats``, inside ``display()``.

    Raises :class:`~crawler.errors.OutputError` when a write fails mid-run
    (disk full); KeyboardInterrupt after a Ctrl-C (finished files are kept) and
    :class:`~crawler.errors.WorkerFailed` when a worker process died.
    """
    Store(settings.output.dir).remove_partial_files()
    run_id = index_run.start_run(settings)  # creates or upgrades the index: a problem stops the run here
    count = process_count(settings, len(urls))
    if count > 1:
        crawl_in_workers(settings, urls, count, stats, display, run_id)
        return
    with display():
        asyncio.run(crawl_urls(settings, urls, stats, run_id))
