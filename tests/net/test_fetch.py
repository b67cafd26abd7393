"""Range edge cases of the fetch layer, against HTTP answered by an injected ``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crawler.answers import ImageResponse, PageResponse
from crawler.errors import FetchError, TransientError
from crawler.models import ImageRecord
from crawler.net.fetch import Fetcher
from crawler.records import assess, image_record
from crawler.settings import Settings, load_settings
from tests.support.mock_http import MockSite

URL = "http://img.test/a.jpg"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 200  # 51,204 bytes


@pytest.fixture
def site() -> MockSite:
    """The site the test's fetcher talks to, through its injected transport."""
    return MockSite()


def record_of(response: ImageResponse) -> ImageRecord:
    fingerprint_settings = settings().fingerprint
    return image_record(URL, None, response, fingerprint_settings, assess(response, fingerprint_settings))


def settings(**overrides: Any) -> Settings:
    return load_settings(None, {"retries.backoff": 0.0, **overrides})


def fetch(site: MockSite, call: str, url: str = URL, start: int | None = None, end: int | None = None, **overrides: Any) -> Any:
    span = () if start is None else (start, end)

    async def go() -> Any:
        async with Fetcher(settings(**overrides), transport=site.transport) as fetcher:
            return await getattr(fetcher, call)(url, *span)

    return asyncio.run(go())


def partial(body: bytes, total: str | int, **headers: str) -> httpx.Response:
    return httpx.Response(
        206, content=body[:10240], headers={"Content-Range": f"bytes 0-{min(len(body), 10240) - 1}/{total}", **headers}
    )


def test_206_gives_prefix_total_and_headers(site: MockSite) -> None:
    route = site.route(URL, partial(JPEG, len(JPEG), ETag='W/"abc-1"', **{"Content-Type": "image/jpeg"}))
    response = fetch(site, "fetch_image")
    assert (response.data, response.total_size, response.etag) == (JPEG[:10240], len(JPEG), 'W/"abc-1"')
    request = route.requests[-1]
    assert request.method == "GET"
    assert request.headers["Range"] == "bytes=0-10239"
    assert request.headers["Accept-Encoding"] == "identity"
    assert route.call_count == 1


def test_200_ignoring_range_reads_only_the_prefix(site: MockSite) -> None:
    pulled = 0
    size = 50 * 1024 * 1024

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        chunk = b"\xff\xd8\xff\xe0" + bytes(8188)
        while pulled < size:
            pulled += len(chunk)
            yield chunk

    site.route(URL, httpx.Response(200, content=body(), headers={"Content-Length": str(size)}))
    response = fetch(site, "fetch_image")
    assert len(response.data) == 10240
    assert response.total_size == size
    assert pulled <= 10240 + 8192, "read on past the prefix"
    assert response.bytes_fetched <= 10240 + 8192


def test_unknown_total_is_null(site: MockSite) -> None:
    site.route(URL, partial(JPEG, "*"))
    response = fetch(site, "fetch_image")
    assert response.total_size is None
    record = record_of(response)
    assert (record.status, record.image_size) == ("ok", None)


def test_416_for_an_empty_file_is_a_skipped_record(site: MockSite) -> None:
    site.route(URL, httpx.Response(416, headers={"Content-Range": "bytes */0"}))
    record = record_of(fetch(site, "fetch_image"))
    assert (record.status, record.error_kind, record.image_size) == ("skipped", "too_small", 0)


def test_416_without_content_range_is_an_error_record(site: MockSite) -> None:
    site.route(URL, httpx.Response(416))
    record = record_of(fetch(site, "fetch_image"))
    assert (record.status, record.error_kind, record.image_size) == ("error", "empty", None)


def test_range_not_starting_at_zero_is_an_error(site: MockSite) -> None:
    site.route(URL, httpx.Response(206, content=JPEG[:100], headers={"Content-Range": "bytes 100-199/51204"}))
    with pytest.raises(FetchError) as caught:
        fetch(site, "fetch_image")
    assert caught.value.kind == "bad_range"


def test_html_under_an_image_content_type_is_not_an_image(site: MockSite) -> None:
    page = b"<!DOCTYPE html><html><body>login first</body></html>" + b" " * 30000
    site.route(URL, partial(page, len(page), **{"Content-Type": "image/jpeg"}))
    record = record_of(fetch(site, "fetch_image"))
    assert (record.status, record.error_kind) == ("error", "not_image")


def test_an_image_under_a_wrong_content_type_is_fingerprinted(site: MockSite) -> None:
    site.route(URL, partial(JPEG, len(JPEG), **{"Content-Type": "text/plain"}))
    record = record_of(fetch(site, "fetch_image"))
    assert (record.status, record.format, record.content_type) == ("ok", "jpeg", "text/plain")


def test_redirects_are_followed_and_the_final_url_kept(site: MockSite) -> None:
    site.route(URL, httpx.Response(301, headers={"Location": "http://cdn.test/a.jpg"}))
    final = site.route("http://cdn.test/a.jpg", partial(JPEG, len(JPEG)))
    response = fetch(site, "fetch_image")
    assert response.url == "http://cdn.test/a.jpg"
    assert final.requests[-1].headers["Range"] == "bytes=0-10239"
    assert record_of(response).final_url == "http://cdn.test/a.jpg"


def test_redirect_loop_is_an_error(site: MockSite) -> None:
    site.route(URL, httpx.Response(302, headers={"Location": URL}))
    with pytest.raises(FetchError) as caught:
        fetch(site, "fetch_image")
    assert caught.value.kind == "redirects"


def test_503_then_success_is_retried(site: MockSite) -> None:
    route = site.route(URL, httpx.Response(503), partial(JPEG, len(JPEG)))
    assert fetch(site, "fetch_image").total_size == len(JPEG)
    assert route.call_count == 2


def test_429_honours_retry_after(site: MockSite) -> None:
    route = site.route(URL, httpx.Response(429, headers={"Retry-After": "1"}), partial(JPEG, len(JPEG)))
    loop_time: list[float] = []

    async def go() -> ImageResponse:
        async with Fetcher(settings(), transport=site.transport) as fetcher:
            start = asyncio.get_running_loop().time()
            result = await fetcher.fetch_image(URL)
            loop_time.append(asyncio.get_running_loop().time() - start)
            return result

    assert asyncio.run(go()).total_size == len(JPEG)
    assert route.call_count == 2
    assert loop_time[0] >= 1.0


def test_retry_after_beyond_the_limit_gives_up_at_once(site: MockSite) -> None:
    route = site.route(URL, httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(TransientError) as caught:
        fetch(site, "fetch_image")
    assert (caught.value.kind, caught.value.retry_after, route.call_count) == ("http_429", 3600.0, 1)


def test_retries_stop_after_the_configured_attempts(site: MockSite) -> None:
    route = site.route(URL, httpx.Response(500))
    with pytest.raises(TransientError):
        fetch(site, "fetch_image", **{"retries.attempts": 4})
    assert route.call_count == 4


def test_connect_errors_are_retried(site: MockSite) -> None:
    route = site.route(URL, httpx.ConnectError("refused"), partial(JPEG, len(JPEG)))
    assert fetch(site, "fetch_image").total_size == len(JPEG)
    assert route.call_count == 2


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_other_4xx_are_not_retried(status: int, site: MockSite) -> None:
    route = site.route(URL, httpx.Response(status))
    with pytest.raises(FetchError) as caught:
        fetch(site, "fetch_image")
    assert (caught.value.kind, route.call_count) == (f"http_{status}", 1)
    assert not isinstance(caught.value, TransientError)


def test_page_over_the_cap_is_cut(site: MockSite) -> None:
    site.route("http://site.test/", httpx.Response(200, content=b"<html>" + b"x" * 5000, headers={"Content-Type": "text/html"}))
    page = fetch(site, "fetch_page", "http://site.test/", **{"limits.max_page_bytes": 1024})
    assert (len(page.body), page.truncated) == (1024, True)


def test_listed_page_answered_200_costs_one_request(site: MockSite) -> None:
    html = b"<!doctype html><html><body>" + b"<p>x</p>" * 3000 + b"</body></html>"
    route = site.route("http://site.test/", httpx.Response(200, content=html, headers={"Content-Type": "text/html; charset=utf-8"}))
    page = fetch(site, "fetch_any", "http://site.test/")
    assert isinstance(page, PageResponse)
    assert (page.body, page.truncated, page.encoding, route.call_count) == (html, False, "utf-8", 1)


def test_listed_page_cut_by_the_range_is_fetched_whole(site: MockSite) -> None:
    html = b"<!doctype html><html><body>" + b"<p>x</p>" * 3000 + b"</body></html>"
    route = site.route("http://site.test/", partial(html, len(html), **{"Content-Type": "text/html"}), httpx.Response(200, content=html))
    page = fetch(site, "fetch_any", "http://site.test/")
    assert isinstance(page, PageResponse) and page.body == html
    assert route.call_count == 2
    assert "Range" not in route.requests[-1].headers


def test_listed_image_is_an_image_response(site: MockSite) -> None:
    site.route(URL, partial(JPEG, len(JPEG), **{"Content-Type": "image/jpeg"}))
    assert isinstance(fetch(site, "fetch_any"), ImageResponse)


def test_follow_up_range_reads_exactly_the_bytes_asked(site: MockSite) -> None:
    route = site.route(URL, httpx.Response(206, content=JPEG[20000:30000], headers={"Content-Range": f"bytes 20000-29999/{len(JPEG)}"})
    )
    response = fetch(site, "fetch_range", URL, start=20000, end=30000)
    assert response.data == JPEG[20000:30000]
    assert route.requests[-1].headers["Range"] == "bytes=20000-29999"


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (httpx.Response(200, content=JPEG), "range_ignored"),
        (httpx.Response(206, content=JPEG[:10000], headers={"Content-Range": "bytes 0-9999/51204"}), "bad_range"),
    ],
)
def test_follow_up_range_from_a_lying_server_is_an_error(answer: httpx.Response, kind: str, site: MockSite) -> None:
    site.route(URL, answer)
    with pytest.raises(FetchError) as caught:
        fetch(site, "fetch_range", URL, start=20000, end=30000)
    assert caught.value.kind == kind
