"""Adaptive ranges: fetch what the prefix lacks, a bounded number of rounds.

After an image's prefix arrives, the range plan (:mod:`crawler.fingerprint.plan`,
sans I/O) say which byte ranges still hold EXIF or the start of the image
data; this module fetches each round's ranges concurrently with Range
requests, adds them to the sparse buffer, and asks again, until nothing is
missing, the per-image byte cap is spent, or ``max_rounds`` is reached. A
follow-up that fails ends the loop: the record keeps what was fetched and
says why in ``follow_up_error``.

An image whose server ignored Range, or compressed its answer, gets no Range
requests: the fetcher read on from the answer itself (``crawler.net.read_on``)
and the plan is judged on those bytes.
"""

from __future__ import annotations

import asyncio

from crawler.answers import ImageResponse
from crawler.errors import FetchError
from crawler.fingerprint.analyze import analyze
from crawler.fingerprint.plan import Fetched, RangePolicy, Rounds
from crawler.fingerprint.sparse import SparseBuffer
from crawler.index.thumbnails import keep_thumbnail
from crawler.models import ImageRecord
from crawler.net.fetch import Fetcher
from crawler.records import assess, image_record
from crawler.settings import FingerprintSettings, Settings
from crawler.zones import LISTED, Origin


async def fetch_follow_ups(
    fetcher: Fetcher, url: str, response: ImageResponse, settings: FingerprintSettings, origin: Origin = LISTED
) -> Fetched:
    buffer = SparseBuffer.of(response.data + response.rest, response.total_size)
    if response.range_ignored or response.encoded:
        return _read_on(buffer, response, settings)
    rounds = requests = fetched = 0
    plan = Rounds(buffer, RangePolicy.from_settings(settings))
    for planned in plan:
        answers = await asyncio.gather(
            *(fetcher.fetch_range(url, start, end, origin) for start, end in planned), return_exceptions=True
        )
        rounds += 1
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
            layout = analyze(buffer, settings.content_bytes)
            return Fetched(buffer, layout, response.bytes_fetched, rounds, requests, fetched, failed.message)
    return Fetched(buffer, plan.layout, response.bytes_fetched, rounds, requests, fetched)


async def image_record_for(
    fetcher: Fetcher, url: str, page_url: str | None, response: ImageResponse, settings: Settings,
    origin: Origin = LISTED,
) -> ImageRecord:
    """The image's record, after the follow-up ranges its format needs (if it is to be fingerprinted).

    With ``output.keep_thumbnails`` the EXIF thumbnail of a fingerprinted
    image is stored beside the records and named in ``thumbnail_file``.
    """
    problem = assess(response, settings.fingerprint)
    if problem is not None:
        return image_record(url, page_url, response, settings.fingerprint, problem)
    fetched = await fetch_follow_ups(fetcher, url, response, settings.fingerprint, origin)
    thumbnail = fetched.layout.thumbnail if settings.output.keep_thumbnails else None
    kept = keep_thumbnail(settings.output.dir, thumbnail) if thumbnail else None
    return image_record(url, page_url, response, settings.fingerprint, None, fetched, kept)


def _read_on(buffer: SparseBuffer, response: ImageResponse, settings: FingerprintSettings) -> Fetched:
    """What the answer itself brought, read on past the prefix; why it stops short, if it does."""
    layout = analyze(buffer, settings.content_bytes)
    error = None
    if layout.needs and not response.whole:
        if response.range_ignored:
            error = (f"the server ignored Range: its answer was read to the {settings.max_bytes_per_image}-byte cap "
                     "(fingerprint.max_bytes_per_image); the rest of what the format needs lies past it")
        elif not response.rest:
            error = (f"the server compressed its answer ({response.content_encoding}): its ranges count compressed "
                     "bytes, and reading the image from its start failed; no follow-up ranges sent")
        else:
            error = (f"the server compressed its answer ({response.content_encoding}): the image was read from its "
                     f"start to the {settings.max_bytes_per_image}-byte cap (fingerprint.max_bytes_per_image)")
    return Fetched(buffer, layout, response.bytes_fetched, error=error)
