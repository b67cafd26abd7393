"""One image -> its record, with the crawler's own code: a URL over HTTP, a file from disk.

A URL is fetched as a crawl fetches it (the prefix with a Range request, then
the follow-up ranges its format needs, :func:`crawler.run.follow_up.image_record_for`);
a local file goes through :mod:`crawler.match.local`. Both give the fields a
crawl would have written, so they match the index on equal terms.
"""

from __future__ import annotations

import asyncio

from crawler.errors import FetchError
from crawler.match.local import read_file_record
from crawler.models import ImageRecord
from crawler.net.fetch import Fetcher
from crawler.records import error_record
from crawler.run.follow_up import image_record_for
from crawler.settings import Settings


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def probe(target: str, settings: Settings) -> ImageRecord:
    """The record of a URL or a local file (an unreadable file is an error record)."""
    if is_url(target):
        return asyncio.run(_fetch(target, settings))
    return read_file_record(target, settings.fingerprint)


async def _fetch(url: str, settings: Settings) -> ImageRecord:
    async with Fetcher(settings) as fetcher:
        try:
            response = await fetcher.fetch_image(url)
        except FetchError as exc:
            return error_record(url, None, exc)
        return await image_record_for(fetcher, url, None, response, settings)
