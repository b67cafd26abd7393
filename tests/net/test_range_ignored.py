"""Servers that ignore Range (200) or compress their ranges (206 + Content-Encoding), answered in-process.

Each record is compared with the record of the same file from a server that
honours Range: the crawler must learn the same from either, within the cap.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from crawler.models import ImageRecord
from crawler.net.fetch import Fetcher
from crawler.records import assess, image_record
from crawler.run.follow_up import fetch_follow_ups
from tests.support.mock_http import MockSite, Route
from tests.support.settings import settings

URL = "http://img.test/photo.jpg"
SAME = ("status", "image_size", "format", "width", "height", "content_sha256", "perceptual_hash", "exif",
        "sha256_first_10240_bytes", "random_128_bytes_sample_start", "image_data_offset")


def ranged(data: bytes) -> Callable[[httpx.Request], httpx.Response]:
    """A server that honours Range."""

    def answer(request: httpx.Request) -> httpx.Response:
        start, end = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", request.headers["Range"]).groups())  # type: ignore[union-attr]
        body = data[start : end + 1]
        return httpx.Response(206, content=body, headers={"Content-Range": f"bytes {start}-{start + len(body) - 1}/{len(data)}"})

    return answer


def whole(data: bytes, length: bool = True, pulled: list[int] | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """A server that ignores Range: the whole file, in 8 KiB chunks (``pulled`` counts what was read)."""

    def answer(request: httpx.Request) -> httpx.Response:
        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), 8192):
                if pulled is not None:
                    pulled.append(start + 8192)
                yield data[start : start + 8192]

        headers = {"Content-Length": str(len(data))} if length else {}
        return httpx.Response(200, content=chunks(), headers=headers)

    return answer


async def pieces(data: bytes) -> AsyncIterator[bytes]:
    """A body in 8 KiB reads, as the network brings it (and not decoded by MockSite)."""
    for start in range(0, len(data), 8192):
        yield data[start : start + 8192]


def gzipped_ranges(data: bytes) -> Callable[[httpx.Request], httpx.Response]:
    """Apache with forced gzip: a Range is cut from the compressed file, and a plain GET is compressed too."""
    packed = gzip.compress(data)

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Encoding": "gzip"}
        if "Range" not in request.headers:
            return httpx.Response(200, content=pieces(packed), headers=headers)
        start, end = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", request.headers["Range"]).groups())  # type: ignore[union-attr]
        body = packed[start : end + 1]
        headers["Content-Range"] = f"bytes {start}-{start + len(body) - 1}/{len(packed)}"
        return httpx.Response(206, content=pieces(body), headers=headers)

    return answer


def record_for(site: MockSite, url: str = URL, **overrides: Any) -> ImageRecord:
    fetch_settings = settings(**{"retries.attempts": 1, **overrides})

    async def go() -> ImageRecord:
        async with Fetcher(fetch_settings, transport=site.transport) as fetcher:
            response = await fetcher.fetch_image(url)
            problem = assess(response, fetch_settings.fingerprint)
            if problem is not None:
                return image_record(url, None, response, fetch_settings.fingerprint, problem)
            follow = await fetch_follow_ups(fetcher, url, response, fetch_settings.fingerprint)
            return image_record(url, None, response, fetch_settings.fingerprint, None, follow)

    return asyncio.run(go())


def served(answer: Callable[[httpx.Request], httpx.Response]) -> tuple[MockSite, Route]:
    site = MockSite()
    return site, site.route(URL, answer)


def reference(data: bytes) -> ImageRecord:
    site, _route = served(ranged(data))
    return record_for(site)


@pytest.mark.parametrize("name", ["jpeg/Pentax_ist_D.jpg", "jpeg/Canon_PowerShot_S40_2.jpg", "png/Issue_204_dotnet.png"])
@pytest.mark.parametrize("length", [True, False])
def test_a_200_is_read_on_to_the_same_record_in_one_request(corpus: Path, name: str, length: bool) -> None:
    data = (corpus / name).read_bytes()
    expected = reference(data)
    assert expected.range_ignored is False
    site, route = served(whole(data, length))
    record = record_for(site)
    for field in SAME:
        if field == "image_size" and not length:
            assert record.image_size in (None, len(data))  # known only when read to its end
            continue
        assert getattr(record, field) == getattr(expected, field), field
    assert record.content_sha256 and (record.exif or name.endswith(".png"))
    assert (record.range_ignored, record.range_requests, route.call_count) == (True, 0, 1)
    assert record.bytes_fetched <= 262144  # fingerprint.max_bytes_per_image
    assert record.follow_up_error is None


def test_reading_on_stops_where_the_format_needs_no_more(corpus: Path) -> None:
    data = (corpus / "jpeg/Pentax_ist_D.jpg").read_bytes()
    pulled: list[int] = []
    site, _route = served(whole(data, pulled=pulled))
    record = record_for(site)
    assert record.status == "ok" and max(pulled) < len(data) // 2
    assert record.bytes_fetched <= reference(data).bytes_fetched + 2 * 8192


def test_a_small_image_sent_whole_without_length_is_judged_by_its_length(corpus: Path) -> None:
    data = (corpus / "jpeg/Issue_609.jpg").read_bytes()  # 12,898 bytes
    site, _route = served(whole(data, length=False))
    record = record_for(site)
    assert (record.status, record.error_kind, record.image_size) == ("skipped", "too_small", len(data))


def test_a_prefix_answered_200_leaves_the_hosts_other_images_their_follow_ups(corpus: Path) -> None:
    """A script ignoring Range beside static files honouring it: the files still get their ranges."""
    data = (corpus / "jpeg/Pentax_ist_D.jpg").read_bytes()
    site = MockSite()
    site.route("http://img.test/script.jpg", whole(data))
    static = site.route(URL, ranged(data))

    async def go() -> None:
        async with Fetcher(settings(**{"retries.attempts": 1}), transport=site.transport) as fetcher:
            await fetcher.fetch_image("http://img.test/script.jpg")
            assert not fetcher.ignores_range(URL)
            answer = await fetcher.fetch_range(URL, 20000, 30000)
            assert answer.data == data[20000:30000]

    asyncio.run(go())
    assert static.call_count == 1


def test_a_soft_404_page_is_not_read_on_and_leaves_the_host_trusted() -> None:
    site = MockSite()
    page = b"<!doctype html><html><body>not found</body></html>" + b" " * 100000
    route = site.route("http://img.test/gone.jpg", httpx.Response(200, content=page, headers={"Content-Type": "text/html"}))

    async def go() -> None:
        async with Fetcher(settings(**{"retries.attempts": 1}), transport=site.transport) as fetcher:
            response = await fetcher.fetch_image("http://img.test/gone.jpg")
            assert response.range_ignored is True
            assert not fetcher.ignores_range(URL)

    asyncio.run(go())
    assert route.call_count == 1


def test_a_follow_up_answered_200_stops_follow_ups_to_its_host(corpus: Path) -> None:
    """A server that honours only the first range: after one 200, its other images get no Range requests."""
    data = (corpus / "jpeg/Pentax_ist_D.jpg").read_bytes()
    first, honoured = ranged(data), whole(data)
    site = MockSite()
    routes = [site.route(f"http://img.test/{n}.jpg", lambda r: first(r) if r.headers["Range"].startswith("bytes=0-") else honoured(r))
              for n in ("a", "b")]
    records = [record_for(site, f"http://img.test/{n}.jpg") for n in ("a", "b")]
    assert all(r.follow_up_error and "HTTP 200" in r.follow_up_error for r in records)
    assert [route.call_count for route in routes] == [2, 2]  # each in its own run: a new Fetcher forgets

    async def go() -> None:
        async with Fetcher(settings(**{"retries.attempts": 1}), transport=site.transport) as fetcher:
            for n in ("a", "b"):
                response = await fetcher.fetch_image(f"http://img.test/{n}.jpg")
                follow = await fetch_follow_ups(fetcher, f"http://img.test/{n}.jpg", response, settings().fingerprint)
                assert follow.error is not None
            assert fetcher.ignores_range("http://img.test/c.jpg")

    asyncio.run(go())
    assert [route.call_count for route in routes] == [4, 3]  # b's prefix only: no follow-up to a host that ignored Range


@pytest.mark.parametrize("name", ["jpeg/Pentax_ist_D.jpg", "png/Issue_204_dotnet.png"])
def test_a_compressed_range_gives_no_size_and_is_read_again_from_the_start(corpus: Path, name: str) -> None:
    data = (corpus / name).read_bytes()
    expected = reference(data)
    site, route = served(gzipped_ranges(data))
    record = record_for(site)
    for field in SAME:
        if field == "image_size":
            assert record.image_size in (None, len(data))  # Content-Range counts compressed bytes: never taken
            continue
        assert getattr(record, field) == getattr(expected, field), field
    assert (record.content_encoding, record.range_ignored, record.range_requests) == ("gzip", False, 0)
    assert [("Range" in r.headers) for r in route.requests] == [True, False]


def test_a_compressed_range_whose_second_request_fails_says_so(corpus: Path) -> None:
    data = (corpus / "jpeg/Pentax_ist_D.jpg").read_bytes()
    answer = gzipped_ranges(data)
    site, _route = served(lambda request: answer(request) if "Range" in request.headers else httpx.Response(404))
    record = record_for(site)
    assert record.image_size is None and record.content_encoding == "gzip"
    assert record.follow_up_error is not None and "compressed" in record.follow_up_error


def test_image_requests_ask_for_the_original_format(corpus: Path) -> None:
    site, route = served(ranged((corpus / "jpeg/Pentax_ist_D.jpg").read_bytes()))
    record_for(site)
    for request in route.requests:
        accept = request.headers["Accept"]
        assert "image/jpeg" in accept and "webp" not in accept and "avif" not in accept
        assert request.headers["Accept-Encoding"] == "identity"
