"""One image -> its record, with the crawler's own code: a URL over HTTP, a file from disk.

A URL is fetched as a crawl fetches it (the prefix with a Range request, then
the follow-up ranges its format needs); a local file goes through the same
adaptive loop, replayed over its bytes (:func:`crawler.formats.adaptive.replay`),
and the same :func:`crawler.fingerprint.fingerprint`. Both give the fields a
crawl would have written, so they match the index on equal terms.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from crawler.errors import FetchError
from crawler.fetch import Fetcher
from crawler.fingerprint import fingerprint
from crawler.follow_up import fetch_follow_ups, policy
from crawler.formats.adaptive import replay
from crawler.models import ImageRecord
from crawler.records import error_record, fingerprintable, image_record
from crawler.settings import FingerprintSettings, Settings


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def file_record(name: str, data: bytes, settings: FingerprintSettings) -> ImageRecord:
    """The record a crawl would write for ``data`` served whole at ``name``."""
    fetched = replay(data, policy(settings), settings.prefix_bytes)
    fields = fingerprint(data[: settings.prefix_bytes], settings.sample_bytes, fetched.layout, settings.content_bytes)
    return ImageRecord(url=name, status="ok", image_size=len(data), bytes_fetched=fetched.bytes_fetched, **vars(fields))


def url_record(url: str, settings: Settings) -> ImageRecord:
    return asyncio.run(_fetch(url, settings))


async def _fetch(url: str, settings: Settings) -> ImageRecord:
    async with Fetcher(settings) as fetcher:
        try:
            response = await fetcher.fetch_image(url)
        except FetchError as exc:
            return error_record(url, None, exc)
        if not fingerprintable(response, settings.fingerprint):
            return image_record(url, None, response, settings.fingerprint)
        follow_ups = await fetch_follow_ups(fetcher, url, response, settings.fingerprint)
        return image_record(url, None, response, settings.fingerprint, follow_ups)


def probe(target: str, settings: Settings) -> ImageRecord:
    """The record of a URL or a local file (an unreadable file is an error record)."""
    if is_url(target):
        return url_record(target, settings)
    try:
        data = Path(target).read_bytes()
    except OSError as exc:
        return ImageRecord(url=target, status="error", error_kind="unreadable", error=f"cannot read {target}: {exc.strerror}")
    return file_record(target, data, settings.fingerprint)
