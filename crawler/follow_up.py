"""Adaptive ranges: fetch what the prefix lacks, a bounded number of rounds.

After an image's prefix arrives, the format parsers (``formats.adaptive``,
sans I/O) say which byte ranges still hold EXIF or the start of the image
data; this module fetches each round's ranges concurrently with Range
requests, adds them to the sparse buffer, and asks again, until nothing is
missing, the per-image byte cap is spent, or ``max_rounds`` is reached. A
follow-up that fails ends the loop: the record keeps what was fetched and
says why in ``follow_up_error``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from crawler.errors import FetchError
from crawler.fetch import Fetcher, ImageResponse
from crawler.formats import Layout, analyze
from crawler.formats.adaptive import RangePolicy, Rounds
from crawler.formats.sparse import SparseBuffer
from crawler.settings import FingerprintSettings
from crawler.zones import LISTED, Origin


@dataclass(frozen=True)
class FollowUps:
    buffer: SparseBuffer  # the prefix and every range fetched after it
    layout: Layout  # the analysis of the final buffer
    requests: int
    bytes_fetched: int
    error: FetchError | None = None


def policy(settings: FingerprintSettings) -> RangePolicy:
    return RangePolicy(
        cap_bytes=settings.max_bytes_per_image, max_rounds=settings.max_rounds, content_bytes=settings.content_bytes
    )


async def fetch_follow_ups(
    fetcher: Fetcher, url: str, response: ImageResponse, settings: FingerprintSettings, origin: Origin = LISTED
) -> FollowUps:
    buffer = SparseBuffer.of(response.data, response.total_size)
    requests = fetched = 0
    plan = Rounds(buffer, policy(settings))
    for planned in plan:
        answers = await asyncio.gather(
            *(fetcher.fetch_range(url, start, end, origin) for start, end in planned), return_exceptions=True
        )
        requests += len(planned)
        failed: FetchError | None = None
        for (start, _end), answer in zip(planned, answers):
            if isinstance(answer, FetchError):
                failed = failed or answer
            elif isinstance(answer, BaseException):
                raise answer
            else:
                buffer.add(start, answer.data)
                fetched += answer.bytes_fetched
        if failed is not None:
            return FollowUps(buffer, analyze(buffer, settings.content_bytes), requests, fetched, failed)
    return FollowUps(buffer, plan.layout, requests, fetched)
