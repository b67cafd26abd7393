"""Adaptive ranges through the pipeline: follow-ups fetched, capped, and failing safely (HTTP answered in-process)."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path
from typing import Any

import exifread
import httpx
import pytest

from crawler.models import ImageRecord
from crawler.net.fetch import Fetcher
from crawler.run.follow_up import image_record_for
from tests.support.mock_http import MockSite, Route
from tests.support.settings import settings

URL = "http://img.test/photo.jpg"


def whole_file_exif(data: bytes) -> dict[str, str]:
    tags = exifread.process_file(io.BytesIO(data), details=False)
    return {k: str(v.printable).strip("\x00 ").strip() for k, v in tags.items() if hasattr(v, "printable")}


def serve(site: MockSite, data: bytes, ignore_follow_ups: bool = False) -> Route:
    """Answer Range requests for ``URL`` from ``data`` (with the whole file, past the prefix, if ``ignore_follow_ups``)."""

    def answer(request: httpx.Request) -> httpx.Response:
        start, end = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", request.headers["Range"]).groups())  # type: ignore[union-attr]
        if ignore_follow_ups and start > 0:
            return httpx.Response(200, content=data)
        body = data[start : end + 1]
        return httpx.Response(206, content=body, headers={"Content-Range": f"bytes {start}-{start + len(body) - 1}/{len(data)}"})

    return site.route(URL, answer)


def record_for(site: MockSite, **overrides: Any) -> ImageRecord:
    """The record of ``URL``: its prefix, then the follow-up ranges, as the pipeline fetches them."""
    fetch_settings = settings(**{"retries.attempts": 1, **overrides})

    async def go() -> ImageRecord:
        async with Fetcher(fetch_settings, transport=site.transport) as fetcher:
            response = await fetcher.fetch_image(URL)
            return await image_record_for(fetcher, URL, None, response, fetch_settings)

    return asyncio.run(go())


@pytest.fixture
def late_exif_jpeg(corpus: Path) -> bytes:
    """A camera JPEG whose EXIF runs past the 10 KB prefix."""
    data = (corpus / "jpeg" / "Pentax_ist_D.jpg").read_bytes()
    assert len(whole_file_exif(data[:10240])) < len(whole_file_exif(data))
    return data


def test_follow_ups_complete_the_exif(late_exif_jpeg: bytes) -> None:
    site = MockSite()
    route = serve(site, late_exif_jpeg)
    record = record_for(site)
    assert record.exif == whole_file_exif(late_exif_jpeg)
    assert record.range_requests == route.call_count - 1 >= 1
    assert record.content_sha256 is not None and record.width is not None
    assert record.bytes_fetched <= 262144
    assert route.requests[0].headers["Range"] == "bytes=0-10239"


def test_max_rounds_zero_fetches_the_prefix_only(late_exif_jpeg: bytes) -> None:
    site = MockSite()
    route = serve(site, late_exif_jpeg)
    record = record_for(site, **{"fingerprint.max_rounds": 0})
    assert (route.call_count, record.range_requests, record.bytes_fetched) == (1, 0, 10240)
    assert record.exif != whole_file_exif(late_exif_jpeg)


def test_the_byte_cap_holds(late_exif_jpeg: bytes) -> None:
    site = MockSite()
    serve(site, late_exif_jpeg)
    record = record_for(site, **{"fingerprint.max_bytes_per_image": 12288})
    assert record.bytes_fetched <= 12288


def test_a_failed_follow_up_keeps_the_prefix_record(late_exif_jpeg: bytes) -> None:
    site = MockSite()
    serve(site, late_exif_jpeg, ignore_follow_ups=True)
    record = record_for(site)
    assert record.status == "ok"
    assert record.sha256_first_10240_bytes is not None
    assert record.follow_up_error is not None and "got HTTP 200" in record.follow_up_error


def test_exif_thumbnail_gives_a_perceptual_hash(corpus: Path) -> None:
    site = MockSite()
    data = (corpus / "jpeg" / "Canon_PowerShot_S40_2.jpg").read_bytes()
    serve(site, data)
    record = record_for(site)
    assert record.perceptual_hash_source == "exif_thumbnail"
    assert re.fullmatch(r"[0-9a-f]{16}", record.perceptual_hash or "")
