"""Range edge cases of the fetch layer, against respx-mocked HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from crawler.errors import FetchError, TransientError
from crawler.models import ImageRecord
from crawler.net.fetch import Fetcher, ImageResponse, PageResponse
from crawler.records import assess, image_record
from crawler.settings import Settings, load_settings

URL = "http://img.test/a.jpg"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 200  # 51,204 bytes


def record_of(response: ImageResponse) -> ImageRecord:
    fingerprint_settings = settings().fingerprint
    return image_record(URL, None, response, fingerprint_settings, assess(response, fingerprint_settings))


def settings(**overrides: Any) -> Settings:
    return load_settings(None, {"retries.backoff": 0.0, **overrides})


def fetch(call: str, url: str = URL, start: int | None = None, end: int | None = None, **overrides: Any) -> Any:
    span = () if start is None else (start, end)

    async def go() -> Any:
        async with Fetcher(settings(**overrides)) as fetcher:
            return await getattr(fetcher, call)(url, *span)

    return asyncio.run(go())


def partial(body: bytes, total: str | int, **headers: str) -> httpx.Response:
    return httpx.Response(
        206, content=body[:10240], headers={"Content-Range": f"bytes 0-{min(len(body), 10240) - 1}/{total}", **headers}
    )


@respx.mock
def test_206_gives_prefix_total_and_headers() -> None:
    route = respx.get(URL).mock(return_value=partial(JPEG, len(JPEG), ETag='W/"abc-1"', **{"Content-Type": "image/jpeg"}))
    response = fetch("fetch_image")
    assert (response.data, response.total_size, response.etag) == (JPEG[:10240], len(JPEG), 'W/"abc-1"')
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.headers["Range"] == "bytes=0-10239"
    assert request.headers["Accept-Encoding"] == "identity"
    assert route.call_count == 1


@respx.mock
def test_200_ignoring_range_reads_only_the_prefix() -> None:
    pulled = 0
    size = 50 * 1024 * 1024

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        chunk = b"\xff\xd8\xff\xe0" + bytes(8188)
        while pulled < size:
            pulled += len(chunk)
            yield chunk

    respx.get(URL).mock(return_value=httpx.Response(200, content=body(), headers={"Content-Length": str(size)}))
    response = fetch("fetch_image")
    assert len(response.data) == 10240
    assert response.total_size == size
    assert pulled <= 10240 + 8192, "read on past the prefix"
    assert response.bytes_fetched <= 10240 + 8192


@respx.mock
def test_unknown_total_is_null() -> None:
    respx.get(URL).mock(return_value=partial(JPEG, "*"))
    response = fetch("fetch_image")
    assert response.total_size is None
    record = record_of(response)
    assert (record.status, record.image_size) == ("ok", None)


@respx.mock
def test_416_for_an_empty_file_is_a_skipped_record() -> None:
    respx.get(URL).mock(return_value=httpx.Response(416, headers={"Content-Range": "bytes */0"}))
    record = record_of(fetch("fetch_image"))
    assert (record.status, record.error_kind, record.image_size) == ("skipped", "too_small", 0)


@respx.mock
def test_416_without_content_range_is_an_error_record() -> None:
    respx.get(URL).mock(return_value=httpx.Response(416))
    record = record_of(fetch("fetch_image"))
    assert (record.status, record.error_kind, record.image_size) == ("error", "empty", None)


@respx.mock
def test_range_not_starting_at_zero_is_an_error() -> None:
    respx.get(URL).mock(return_value=httpx.Response(206, content=JPEG[:100], headers={"Content-Range": "bytes 100-199/51204"}))
    with pytest.raises(FetchError) as caught:
        fetch("fetch_image")
    assert caught.value.kind == "bad_range"


@respx.mock
def test_html_under_an_image_content_type_is_not_an_image() -> None:
    page = b"<!DOCTYPE html><html><body>login first</body></html>" + b" " * 30000
    respx.get(URL).mock(return_value=partial(page, len(page), **{"Content-Type": "image/jpeg"}))
    record = record_of(fetch("fetch_image"))
    assert (record.status, record.error_kind) == ("error", "not_image")


@respx.mock
def test_an_image_under_a_wrong_content_type_is_fingerprinted() -> None:
    respx.get(URL).mock(return_value=partial(JPEG, len(JPEG), **{"Content-Type": "text/plain"}))
    record = record_of(fetch("fetch_image"))
    assert (record.status, record.format, record.content_type) == ("ok", "jpeg", "text/plain")


@respx.mock
def test_redirects_are_followed_and_the_final_url_kept() -> None:
    respx.get(URL).mock(return_value=httpx.Response(301, headers={"Location": "http://cdn.test/a.jpg"}))
    final = respx.get("http://cdn.test/a.jpg").mock(return_value=partial(JPEG, len(JPEG)))
    response = fetch("fetch_image")
    assert response.url == "http://cdn.test/a.jpg"
    assert final.calls.last.request.headers["Range"] == "bytes=0-10239"
    assert record_of(response).final_url == "http://cdn.test/a.jpg"


@respx.mock
def test_redirect_loop_is_an_error() -> None:
    respx.get(URL).mock(return_value=httpx.Response(302, headers={"Location": URL}))
    with pytest.raises(FetchError) as caught:
        fetch("fetch_image")
    assert caught.value.kind == "redirects"


@respx.mock
def test_503_then_success_is_retried() -> None:
    route = respx.get(URL).mock(side_effect=[httpx.Response(503), partial(JPEG, len(JPEG))])
    assert fetch("fetch_image").total_size == len(JPEG)
    assert route.call_count == 2


@respx.mock
def test_429_honours_retry_after() -> None:
    route = respx.get(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), partial(JPEG, len(JPEG))])
    loop_time: list[float] = []

    async def go() -> ImageResponse:
        async with Fetcher(settings()) as fetcher:
            start = asyncio.get_running_loop().time()
            result = await fetcher.fetch_image(URL)
            loop_time.append(asyncio.get_running_loop().time() - start)
            return result

    assert asyncio.run(go()).total_size == len(JPEG)
    assert route.call_count == 2
    assert loop_time[0] >= 1.0


@respx.mock
def test_retry_after_beyond_the_limit_gives_up_at_once() -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(TransientError) as caught:
        fetch("fetch_image")
    assert (caught.value.kind, caught.value.retry_after, route.call_count) == ("http_429", 3600.0, 1)


@respx.mock
def test_retries_stop_after_the_configured_attempts() -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(500))
    with pytest.raises(TransientError):
        fetch("fetch_image", **{"retries.attempts": 4})
    assert route.call_count == 4


@respx.mock
def test_connect_errors_are_retried() -> None:
    route = respx.get(URL).mock(side_effect=[httpx.ConnectError("refused"), partial(JPEG, len(JPEG))])
    assert fetch("fetch_image").total_size == len(JPEG)
    assert route.call_count == 2


@respx.mock
@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_other_4xx_are_not_retried(status: int) -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(status))
    with pytest.raises(FetchError) as caught:
        fetch("fetch_image")
    assert (caught.value.kind, route.call_count) == (f"http_{status}", 1)
    assert not isinstance(caught.value, TransientError)


@respx.mock
def test_page_over_the_cap_is_cut() -> None:
    respx.get("http://site.test/").mock(return_value=httpx.Response(200, content=b"<html>" + b"x" * 5000, headers={"Content-Type": "text/html"}))
    page = fetch("fetch_page", "http://site.test/", **{"limits.max_page_bytes": 1024})
    assert (len(page.body), page.truncated) == (1024, True)


@respx.mock
def test_listed_page_answered_200_costs_one_request() -> None:
    html = b"<!doctype html><html><body>" + b"<p>x</p>" * 3000 + b"</body></html>"
    route = respx.get("http://site.test/").mock(return_value=httpx.Response(200, content=html, headers={"Content-Type": "text/html; charset=utf-8"}))
    page = fetch("fetch_any", "http://site.test/")
    assert isinstance(page, PageResponse)
    assert (page.body, page.truncated, page.encoding, route.call_count) == (html, False, "utf-8", 1)


@respx.mock
def test_listed_page_cut_by_the_range_is_fetched_whole() -> None:
    html = b"<!doctype html><html><body>" + b"<p>x</p>" * 3000 + b"</body></html>"
    route = respx.get("http://site.test/").mock(
        side_effect=[partial(html, len(html), **{"Content-Type": "text/html"}), httpx.Response(200, content=html)]
    )
    page = fetch("fetch_any", "http://site.test/")
    assert isinstance(page, PageResponse) and page.body == html
    assert route.call_count == 2
    assert "Range" not in route.calls.last.request.headers


@respx.mock
def test_listed_image_is_an_image_response() -> None:
    respx.get(URL).mock(return_value=partial(JPEG, len(JPEG), **{"Content-Type": "image/jpeg"}))
    assert isinstance(fetch("fetch_any"), ImageResponse)


@respx.mock
def test_follow_up_range_reads_exactly_the_bytes_asked() -> None:
    route = respx.get(URL).mock(
        return_value=httpx.Response(206, content=JPEG[20000:30000], headers={"Content-Range": f"bytes 20000-29999/{len(JPEG)}"})
    )
    response = fetch("fetch_range", URL, start=20000, end=30000)
    assert response.data == JPEG[20000:30000]
    assert route.calls.last.request.headers["Range"] == "bytes=20000-29999"


@respx.mock
@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (httpx.Response(200, content=JPEG), "range_ignored"),
        (httpx.Response(206, content=JPEG[:10000], headers={"Content-Range": "bytes 0-9999/51204"}), "bad_range"),
    ],
)
def test_follow_up_range_from_a_lying_server_is_an_error(answer: httpx.Response, kind: str) -> None:
    respx.get(URL).mock(return_value=answer)
    with pytest.raises(FetchError) as caught:
        fetch("fetch_range", URL, start=20000, end=30000)
    assert caught.value.kind == kind
