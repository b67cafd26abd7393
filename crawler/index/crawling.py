"""The crawl's side of the index: register the run, hand each process an indexing store.

The parent registers the run (and creates or upgrades the index, so a
problem stops the crawl before any request); each process, the parent or a
worker, then opens its own connection: SQLite serialises the writers with
its busy timeout, PostgreSQL with its own locks.
"""

from __future__ import annotations

from crawler.index.database import connect, index_location
from crawler.index.writer import IndexedStore, IndexWriter, new_run_id, register_run
from crawler.settings import Settings
from crawler.store.files import Store


def start_run(settings: Settings) -> str | None:
    """A new run id, registered in the index; None when indexing is off."""
    if not settings.index.enabled:
        return None
    database = connect(location(settings))
    try:
        run_id = new_run_id()
        register_run(database, run_id, "crawl")
        return run_id
    finally:
        database.close()


def location(settings: Settings) -> str:
    return index_location(settings.index.url, settings.output.dir)


def open_store(settings: Settings, run_id: str | None) -> Store:
    """The store this process writes through: indexing when ``run_id`` is set."""
    if run_id is None:
        return Store(settings.output.dir)
    return IndexedStore(settings.output.dir, IndexWriter(connect(location(settings)), run_id))


def close_store(store: Store) -> int:
    """Close the store's index connection; how many listed URLs it failed to index."""
    if not isinstance(store, IndexedStore):
        return 0
    store.writer.database.close()
    return store.failures
