"""The pipeline's bookkeeping, over respx-mocked HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import respx

from crawler.net.fetch import Fetcher
from crawler.run.crawl import Crawl
from crawler.run.stats import Stats
from crawler.settings import load_settings
from crawler.store.files import Store

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 200


def image(total: int = len(JPEG)) -> httpx.Response:
    return httpx.Response(206, content=JPEG[:10240], headers={"Content-Range": f"bytes 0-10239/{total}"})


def page(*srcs: str) -> httpx.Response:
    body = "<html><body>" + "".join(f'<img src="{src}">' for src in srcs) + "</body></html>"
    return httpx.Response(200, text=body, headers={"Content-Type": "text/html"})


def crawl(tmp_path: Path, urls: list[str], **overrides: object) -> Stats:
    settings = load_settings(None, {"retries.backoff": 0.0, "output.dir": str(tmp_path), **overrides})

    async def go() -> Stats:
        async with Fetcher(settings) as fetcher:
            return await Crawl(settings, fetcher, Store(tmp_path)).run(urls)

    return asyncio.run(go())


def records(tmp_path: Path, url: str) -> list[dict[str, object]]:
    return json.loads(Store(tmp_path).path_for(url).read_text())


@respx.mock
def test_an_image_on_many_pages_is_fetched_once(tmp_path: Path) -> None:
    logo = respx.get("http://s.test/logo.jpg").mock(return_value=image())
    respx.get("http://s.test/a").mock(return_value=page("/logo.jpg"))
    respx.get("http://s.test/b").mock(return_value=page("/logo.jpg"))
    stats = crawl(tmp_path, ["http://s.test/a", "http://s.test/b"])
    assert logo.call_count == 1
    a, b = records(tmp_path, "http://s.test/a")[0], records(tmp_path, "http://s.test/b")[0]
    assert a["sha256_first_10240_bytes"] == b["sha256_first_10240_bytes"]
    assert (a["page_url"], b["page_url"]) == ("http://s.test/a", "http://s.test/b")
    assert sorted([a["bytes_fetched"], b["bytes_fetched"]]) == [0, 10240]
    assert a["range_requests"] == b["range_requests"] == 0
    assert (stats.pages, stats.images_found, stats.fingerprinted) == (2, 2, 2)


@respx.mock
def test_a_failed_listed_url_gets_an_error_record(tmp_path: Path) -> None:
    respx.get("http://s.test/gone").mock(return_value=httpx.Response(404))
    stats = crawl(tmp_path, ["http://s.test/gone"])
    [record] = records(tmp_path, "http://s.test/gone")
    assert (record["status"], record["error_kind"], record["page_url"]) == ("error", "http_404", None)
    assert stats.errors == {"http_404": 1}


@respx.mock
def test_resume_skips_finished_urls_and_retries_transient_failures(tmp_path: Path) -> None:
    done = respx.get("http://s.test/done").mock(return_value=page("/i.jpg"))
    flaky = respx.get("http://s.test/flaky").mock(return_value=httpx.Response(503))
    respx.get("http://s.test/i.jpg").mock(return_value=image())
    crawl(tmp_path, ["http://s.test/done", "http://s.test/flaky"], **{"retries.attempts": 1})
    assert records(tmp_path, "http://s.test/flaky")[0]["error_kind"] == "http_5xx"

    flaky.mock(return_value=page("/i.jpg"))
    stats = crawl(tmp_path, ["http://s.test/done", "http://s.test/flaky"], **{"retries.attempts": 1})
    assert (done.call_count, stats.resumed, stats.done) == (1, 1, 1)
    assert records(tmp_path, "http://s.test/flaky")[0]["status"] == "ok"
    assert len(list(tmp_path.rglob("*.json"))) == 2


@respx.mock
def test_images_per_page_are_capped_and_counted(tmp_path: Path) -> None:
    respx.get("http://s.test/many").mock(return_value=page(*(f"/{i}.jpg" for i in range(10))))
    respx.get(url__regex=r"http://s\.test/\d+\.jpg").mock(return_value=image())
    stats = crawl(tmp_path, ["http://s.test/many"], **{"limits.max_images_per_page": 3})
    assert len(records(tmp_path, "http://s.test/many")) == 3
    assert (stats.images_found, stats.images_capped, stats.fingerprinted) == (10, 7, 3)


@respx.mock
def test_small_and_unknown_size_images(tmp_path: Path) -> None:
    respx.get("http://s.test/p").mock(return_value=page("/small.jpg", "/unknown.jpg"))
    respx.get("http://s.test/small.jpg").mock(return_value=image(total=15000))
    respx.get("http://s.test/unknown.jpg").mock(
        return_value=httpx.Response(206, content=JPEG[:10240], headers={"Content-Range": "bytes 0-10239/*"})
    )
    stats = crawl(tmp_path, ["http://s.test/p"])
    small, unknown = records(tmp_path, "http://s.test/p")
    assert (small["status"], small["error_kind"], small["image_size"]) == ("skipped", "too_small", 15000)
    assert small["sha256_first_10240_bytes"] is None
    assert (unknown["status"], unknown["image_size"]) == ("ok", None)
    assert (stats.skipped, stats.fingerprinted, stats.bytes_fetched) == (1, 1, 20480 + len(b"<html><body>") + 0 + len('<img src="/small.jpg"><img src="/unknown.jpg"></body></html>'))


@respx.mock
def test_a_bug_costs_one_url_not_the_run(tmp_path: Path) -> None:
    respx.get("http://s.test/p").mock(return_value=page("/bad.jpg", "/good.jpg"))
    respx.get("http://s.test/bad.jpg").mock(side_effect=RuntimeError("boom"))
    respx.get("http://s.test/good.jpg").mock(return_value=image())
    respx.get("http://s.test/direct-bad").mock(side_effect=ZeroDivisionError("listed"))
    stats = crawl(tmp_path, ["http://s.test/p", "http://s.test/direct-bad"])
    bad, good = records(tmp_path, "http://s.test/p")
    assert (bad["status"], bad["error_kind"], good["status"]) == ("error", "internal", "ok")
    assert "RuntimeError: boom" in str(bad["error"])
    [listed] = records(tmp_path, "http://s.test/direct-bad")
    assert (listed["error_kind"], stats.done, stats.errors["internal"]) == ("internal", 2, 2)
