"""One crawl run: listed URLs -> pages -> image URLs -> prefixes -> records -> files.

Listed URLs wait in their host's queue (:mod:`crawler.run.frontier`), not in
a worker: one is started when its host has room, so a slow or dead host
holds only its own places. Each listed URL is sniffed (image or page); a
page's images are fetched concurrently (the fetcher enforces the overall and
per-host limits) and its records written as one file. An image URL carries
its page's :class:`Origin` (found through Tor, zone limit) to its fetch, so a
hostile page cannot route it elsewhere. Every outcome, failures included,
becomes a record; counts go to a
:class:`Stats` that the CLI displays. The library never prints.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from typing import Any
from urllib.parse import urlsplit

from crawler.answers import ImageResponse, PageResponse
from crawler.errors import FetchError, OutputError, internal_error
from crawler.index import crawling as index_run
from crawler.models import ImageRecord
from crawler.net.fetch import Fetcher
from crawler.pages.extract import extract_image_urls
from crawler.records import error_record, seen_again
from crawler.run.follow_up import image_record_for
from crawler.run.frontier import Frontier, Lease
from crawler.run.stats import Stats
from crawler.settings import Settings
from crawler.store.files import Store
from crawler.zones import LISTED, Origin

_IMAGE_CACHE_SIZE = 1024  # images shared by many pages (logos) are fetched once


class Crawl:
    """Crawls a list of URLs into a store; ``await Crawl(...).run(urls)``."""

    def __init__(self, settings: Settings, fetcher: Fetcher, store: Store, stats: Stats | None = None) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.store = store
        self.stats = stats or Stats()
        # Keyed by URL and origin: a URL refused or routed otherwise for one page
        # must not be served from another page's fetch.
        self._images: OrderedDict[tuple[str, Origin], asyncio.Task[ImageRecord]] = OrderedDict()
        self._pages_per_host: Counter[str] = Counter()
        self._failure: OutputError | None = None
        self._failed = asyncio.Event()

    async def run(self, urls: list[str]) -> Stats:
        """Crawl ``urls``; raises :class:`OutputError` when a file cannot be written (disk full).

        A write that fails stops the run at once: going on would fetch pages
        whose records could not be kept. Files written before stay; a rerun
        resumes.
        """
        self.stats.listed = len(urls)
        limits = self.settings.limits
        frontier = Frontier(urls, limits.per_host, limits.concurrency, limits.probing, self.fetcher.hosts.state,
                            per_unknown_host=max(1, limits.dead_host_failures))
        running: set[asyncio.Task[None]] = set()
        failed: asyncio.Future[Any] = asyncio.ensure_future(self._failed.wait())
        try:
            while not failed.done():
                take: asyncio.Future[Any] = asyncio.ensure_future(frontier.take())
                await asyncio.wait({take, failed}, return_when=asyncio.FIRST_COMPLETED)
                lease: Lease | None = take.result() if take.done() else None
                if lease is None:
                    take.cancel()
                    break
                started = asyncio.create_task(self._leased(frontier, lease))
                running.add(started)
                started.add_done_callback(running.discard)
            if running and not failed.done():
                everything: asyncio.Future[Any] = asyncio.gather(*running)
                await asyncio.wait({everything, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in [*running, failed]:
                task.cancel()
            await asyncio.gather(*running, failed, return_exceptions=True)
        if self._failure is not None:
            raise self._failure
        return self.stats

    async def _leased(self, frontier: Frontier, lease: Lease) -> None:
        try:
            await self._listed(lease.url)
        except Exception as exc:  # a bug must cost one URL, not the run
            self._write(lease.url, [self._counted(error_record(lease.url, None, internal_error(exc)))])
        finally:
            frontier.release(lease)

    async def _listed(self, url: str) -> None:
        if self.store.is_done(url):
            self.stats.resumed += 1
            return
        try:
            response = await self.fetcher.fetch_any(url)
        except FetchError as exc:
            records = [self._counted(error_record(url, None, exc))]
        else:
            if isinstance(response, PageResponse):
                records = await self._page(url, response)
            else:
                records = [self._counted(await self._image_record(url, None, response, LISTED))]
        self._write(url, records)

    async def _page(self, url: str, page: PageResponse) -> list[ImageRecord]:
        host = urlsplit(url).hostname or ""
        self._pages_per_host[host] += 1
        cap = self.settings.limits.max_pages_per_host
        if self._pages_per_host[host] > cap:
            error = FetchError("pages_per_host", f"more than {cap} listed pages on {host} (limits.max_pages_per_host)")
            return [self._counted(error_record(url, None, error))]
        self.stats.pages += 1
        self.stats.pages_truncated += page.truncated
        self.stats.bytes_fetched += page.bytes_fetched
        # In a thread: 100,000 <img> take about a second of parsing, during which
        # the event loop would stall and every other request's timeout run on.
        found = await asyncio.to_thread(
            extract_image_urls, page.body, page.url, self.settings.limits.max_images_per_page, page.encoding
        )
        self.stats.images_found += found.found
        self.stats.images_capped += found.capped
        images = (self._image(image_url, url, page.found) for image_url in found.image_urls)
        return list(await asyncio.gather(*images))

    async def _image(self, url: str, page_url: str, origin: Origin) -> ImageRecord:
        """The record of an image URL on a page; one seen earlier in this run (from the same origin) is not fetched again."""
        key = (url, origin)
        task = self._images.get(key)
        if task is not None:
            self._images.move_to_end(key)
            return self._counted(seen_again(await asyncio.shield(task), page_url))
        task = asyncio.ensure_future(self._fetch_image(url, page_url, origin))
        self._images[key] = task
        while len(self._images) > _IMAGE_CACHE_SIZE:
            self._images.popitem(last=False)
        return self._counted(await task)

    async def _fetch_image(self, url: str, page_url: str, origin: Origin) -> ImageRecord:
        try:
            return await self._image_record(url, page_url, await self.fetcher.fetch_image(url, origin), origin)
        except FetchError as exc:
            return error_record(url, page_url, exc)
        except Exception as exc:  # a bug must cost one image, not its page
            return error_record(url, page_url, internal_error(exc))

    async def _image_record(self, url: str, page_url: str | None, response: ImageResponse, origin: Origin) -> ImageRecord:
        return await image_record_for(self.fetcher, url, page_url, response, self.settings, origin)

    def _write(self, url: str, records: list[ImageRecord]) -> None:
        try:
            self.store.write(url, records)
        except OutputError as exc:
            self._failure = self._failure or exc
            self._failed.set()
            return
        self.stats.done += 1

    def _counted(self, record: ImageRecord) -> ImageRecord:
        self.stats.count(record)
        return record


async def crawl_urls(settings: Settings, urls: list[str], stats: Stats, run_id: str | None) -> None:
    """Crawl ``urls`` in this process and event loop, into ``settings.output.dir`` (and the index of run ``run_id``)."""
    store = index_run.open_store(settings, run_id)  # each process its own index connection
    try:
        async with Fetcher(settings) as fetcher:
            await Crawl(settings, fetcher, store, stats).run(urls)
    finally:
        stats.index_failures += index_run.close_store(store)
