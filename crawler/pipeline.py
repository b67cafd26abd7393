"""One crawl run: listed URLs -> pages -> image URLs -> prefixes -> records -> files.

A fixed pool of workers takes listed URLs from a queue. Each listed URL is
sniffed (image or page); a page's images are fetched concurrently (the
fetcher enforces the overall and per-host limits) and its records written as
one file. Every outcome, failures included, becomes a record; counts go to a
:class:`Stats` that the CLI displays. The library never prints.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from crawler.errors import FetchError, internal_error
from crawler.extract import extract_image_urls
from crawler.fetch import Fetcher, ImageResponse, PageResponse
from crawler.models import ImageRecord
from crawler.follow_up import fetch_follow_ups
from crawler.index.thumbnails import keep_thumbnail
from crawler.records import error_record, fingerprintable, image_record
from crawler.settings import Settings
from crawler.store import Store

_IMAGE_CACHE_SIZE = 1024  # images shared by many pages (logos) are fetched once


@dataclass
class Stats:
    """Running counts of one crawl; read by the progress display and the summary."""

    listed: int = 0
    resumed: int = 0  # listed URLs a previous run had finished
    done: int = 0  # listed URLs finished in this run
    pages: int = 0
    pages_truncated: int = 0
    images_found: int = 0
    images_capped: int = 0
    fingerprinted: int = 0
    skipped: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    bytes_fetched: int = 0
    image_bytes_total: int = 0  # sum of the known total sizes of the images seen
    processes: int = 1  # processes the crawl ran in (the sum over workers, each counting 1)
    index_failures: int = 0  # listed URLs whose file was written but not indexed

    def count(self, record: ImageRecord) -> None:
        self.bytes_fetched += record.bytes_fetched
        self.image_bytes_total += record.image_size or 0
        if record.status == "ok":
            self.fingerprinted += 1
        elif record.status == "skipped":
            self.skipped += 1
        else:
            self.errors[record.error_kind or "error"] += 1


class Crawl:
    """Crawls a list of URLs into a store; ``await Crawl(...).run(urls)``."""

    def __init__(self, settings: Settings, fetcher: Fetcher, store: Store, stats: Stats | None = None) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.store = store
        self.stats = stats or Stats()
        self._images: OrderedDict[str, asyncio.Task[ImageRecord]] = OrderedDict()

    async def run(self, urls: list[str]) -> Stats:
        self.stats.listed = len(urls)
        queue: asyncio.Queue[str] = asyncio.Queue()
        for url in urls:
            queue.put_nowait(url)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(self.settings.limits.concurrency)]
        try:
            await queue.join()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return self.stats

    async def _worker(self, queue: asyncio.Queue[str]) -> None:
        while True:
            url = await queue.get()
            try:
                await self._listed(url)
            except Exception as exc:  # a bug must cost one URL, not a worker and the run
                self.store.write(url, [self._counted(error_record(url, None, internal_error(exc)))])
                self.stats.done += 1
            finally:
                queue.task_done()

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
                records = [self._counted(await self._image_record(url, response))]
        self.store.write(url, records)
        self.stats.done += 1

    async def _page(self, url: str, page: PageResponse) -> list[ImageRecord]:
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
        records = await asyncio.gather(*(self._image(image_url) for image_url in found.image_urls))
        return [record.model_copy(update={"page_url": url}) for record in records]

    async def _image(self, url: str) -> ImageRecord:
        """The record for an image URL; one seen earlier in this run is not fetched again.

        A repeat (a logo on every page) gets a copy with ``bytes_fetched`` and
        ``range_requests`` 0: nothing was read for it.
        """
        task = self._images.get(url)
        if task is not None:
            self._images.move_to_end(url)
            record = await asyncio.shield(task)
            return self._counted(record.model_copy(update={"bytes_fetched": 0, "range_requests": 0}))
        task = asyncio.ensure_future(self._fetch_image(url))
        self._images[url] = task
        while len(self._images) > _IMAGE_CACHE_SIZE:
            self._images.popitem(last=False)
        return self._counted(await task)

    async def _fetch_image(self, url: str) -> ImageRecord:
        try:
            return await self._image_record(url, await self.fetcher.fetch_image(url))
        except FetchError as exc:
            return error_record(url, None, exc)
        except Exception as exc:  # a bug must cost one image, not its page
            return error_record(url, None, internal_error(exc))

    async def _image_record(self, url: str, response: ImageResponse) -> ImageRecord:
        """The image's record, after the follow-up ranges its format needs."""
        settings = self.settings.fingerprint
        if not fingerprintable(response, settings):
            return image_record(url, None, response, settings)
        follow_ups = await fetch_follow_ups(self.fetcher, url, response, settings)
        record = image_record(url, None, response, settings, follow_ups)
        if self.settings.output.keep_thumbnails and follow_ups.layout.thumbnail and record.status == "ok":
            kept = keep_thumbnail(self.store.root, follow_ups.layout.thumbnail)
            record = record.model_copy(update={"thumbnail_file": kept})
        return record

    def _counted(self, record: ImageRecord) -> ImageRecord:
        self.stats.count(record)
        return record
