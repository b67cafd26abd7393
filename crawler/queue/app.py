"""The procrastinate app of the crawl queue: one task, two queues, a lock per host.

A job is a batch of one host's listed URLs (task :data:`TASK`). Its lock is
the host, so procrastinate runs one batch of a host at a time in the whole
fleet: a host's own listed URLs never compete with themselves across workers.
Its queue says what the worker needs to reach it: ``onion`` batches go only
to workers with Tor (``crawler worker --only onion``), ``clearnet`` ones to
the others.
"""

from __future__ import annotations

import hashlib
from typing import Literal
from urllib.parse import urlsplit

import procrastinate

from crawler.errors import CrawlerError
from crawler.net.tor import is_onion

TASK = "crawl_batch"
Kind = Literal["onion", "clearnet"]
KINDS: tuple[Kind, ...] = ("clearnet", "onion")


def host_of(url: str) -> str:
    """The host as the fetcher's per-host limit counts it: the name, without the port."""
    return (urlsplit(url).hostname or "").lower()


def kind_of(host: str) -> Kind:
    return "onion" if is_onion(host) else "clearnet"


def queues_for(only: str) -> list[str]:
    """The procrastinate queues a worker takes batches from (``queue.only``)."""
    return [only] if only else list(KINDS)


def lock_of(host: str) -> str:
    return f"host:{host}"


def host_key(host: str) -> int:
    """A host's advisory-lock key: 32 signed bits of a hash (two hosts sharing one only share slots: stricter, never looser)."""
    return int.from_bytes(hashlib.sha256(host.encode()).digest()[:4], "big", signed=True)


def new_app(url: str, pool_size: int = 4) -> procrastinate.App:
    """An app on the queue database; open it with ``async with app.open_async()``."""
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=pool_size)
    return procrastinate.App(connector=connector)


class QueueUnusable(CrawlerError):
    """The queue cannot be used as asked (no such run, not reachable); the message says why."""
