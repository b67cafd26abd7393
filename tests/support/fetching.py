"""One image fetch through the real :class:`~crawler.net.fetch.Fetcher` that must fail: its error and its time.

For tests of how a failure is reported and how long it takes (misbehaving
proxies, stalled servers): one attempt and no backoff unless the test's
settings say otherwise.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from crawler.errors import FetchError
from crawler.net.fetch import Fetcher
from crawler.settings import load_settings


def fetch_error(url: str, **overrides: Any) -> tuple[FetchError, float]:
    """The error fetching the image at ``url`` ends in, under the default settings and ``overrides``, and its seconds."""

    async def attempt() -> tuple[FetchError, float]:
        settings = load_settings(None, {"retries.attempts": 1, "retries.backoff": 0.0, **overrides})
        async with Fetcher(settings) as fetcher:
            start = time.monotonic()
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch_image(url)
            return caught.value, time.monotonic() - start

    return asyncio.run(attempt())
