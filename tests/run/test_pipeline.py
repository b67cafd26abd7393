"""The pipeline's bookkeeping, over HTTP answered in-process (a mock transport injected into the Fetcher)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from crawler.net.fetch import Fetcher
from crawler.run.crawl import Crawl
from crawler.run.stats import Stats
from crawler.store.files import Store
from tests.support.mock_http import MockSite
from tests.support.settings import settings
from tests.support.sites import html_page

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 200


def image(total: int = len(JPEG)) -> httpx.Response:
    return httpx.Response(206, content=JPEG[:10240], headers={"Content-Range": f"bytes 0-10239/{total}"})


def page(*srcs: str) -> httpx.Response:
    return httpx.Response(200, content=html_page(*srcs), headers={"Content-Type": "text/html"})


def crawl(tmp_path: Path, site: MockSite, urls: list[str], **overrides: object) -> Stats:
    crawl_settings = settings(**{"output.dir": str(tmp_path), **overrides})

    async def go() -> Stats:
        async with Fetcher(crawl_settings, transport=site.transport) as fetcher:
            return await Crawl(crawl_settings, fetcher, Store(tmp_path)).run(urls)

    return asyncio.run(go())


def records(tmp_path: Path, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(Store(tmp_path).path_for(url).read_text())
    return found


def test_an_image_on_many_pages_is_fetched_once(tmp_path: Path) -> None:
    site = MockSite()
    logo = site.route("http://s.test/logo.jpg", image())
    site.route("http://s.test/a", page("/logo.jpg"))
    site.route("http://s.test/b", page("/logo.jpg"))
    # prefix only: this is about the image cache, not the follow-ups a JPEG without thumbnail gets
    stats = crawl(tmp_path, site, ["http://s.test/a", "http://s.test/b"], **{"fingerprint.max_rounds": 0})
    assert logo.call_count == 1
    a, b = records(tmp_path, "http://s.test/a")[0], records(tmp_path, "http://s.test/b")[0]
    assert a["sha256_first_10240_bytes"] == b["sha256_first_10240_bytes"]
    assert (a["page_url"], b["page_url"]) == ("http://s.test/a", "http://s.test/b")
    assert sorted([a["bytes_fetched"], b["bytes_fetched"]]) == [0, 10240]
    assert a["range_requests"] == b["range_requests"] == 0
    assert (stats.pages, stats.images_found, stats.fingerprinted) == (2, 2, 2)


def test_a_failed_listed_url_gets_an_error_record(tmp_path: Path) -> None:
    site = MockSite()
    site.route("http://s.test/gone", httpx.Response(404))
    stats = crawl(tmp_path, site, ["http://s.test/gone"])
    [record] = records(tmp_path, "http://s.test/gone")
    assert (record["status"], record["error_kind"], record["page_url"]) == ("error", "http_404", None)
    assert stats.errors == {"http_404": 1}


def test_resume_skips_finished_urls_and_retries_transient_failures(tmp_path: Path) -> None:
    site = MockSite()
    done = site.route("http://s.test/done", page("/i.jpg"))
    flaky = site.route("http://s.test/flaky", httpx.Response(503))
    site.route("http://s.test/i.jpg", image())
    crawl(tmp_path, site, ["http://s.test/done", "http://s.test/flaky"], **{"retries.attempts": 1})
    assert records(tmp_path, "http://s.test/flaky")[0]["error_kind"] == "http_5xx"

    flaky.answer(page("/i.jpg"))
    stats = crawl(tmp_path, site, ["http://s.test/done", "http://s.test/flaky"], **{"retries.attempts": 1})
    assert (done.call_count, stats.resumed, stats.done) == (1, 1, 1)
    assert records(tmp_path, "http://s.test/flaky")[0]["status"] == "ok"
    assert len(list(tmp_path.rglob("*.json"))) == 2


def test_images_per_page_are_capped_and_counted(tmp_path: Path) -> None:
    site = MockSite()
    site.route("http://s.test/many", page(*(f"/{i}.jpg" for i in range(10))))
    site.route(r"http://s\.test/\d+\.jpg", image(), regex=True)
    stats = crawl(tmp_path, site, ["http://s.test/many"], **{"limits.max_images_per_page": 3})
    assert len(records(tmp_path, "http://s.test/many")) == 3
    assert (stats.images_found, stats.images_capped, stats.fingerprinted) == (10, 7, 3)


def test_small_and_unknown_size_images(tmp_path: Path) -> None:
    site = MockSite()
    site.route("http://s.test/p", page("/small.jpg", "/unknown.jpg"))
    site.route("http://s.test/small.jpg", image(total=15000))
    site.route("http://s.test/unknown.jpg", httpx.Response(206, content=JPEG[:10240], headers={"Content-Range": "bytes 0-10239/*"}))
    stats = crawl(tmp_path, site, ["http://s.test/p"])
    small, unknown = records(tmp_path, "http://s.test/p")
    assert (small["status"], small["error_kind"], small["image_size"]) == ("skipped", "too_small", 15000)
    assert small["sha256_first_10240_bytes"] is None
    assert (unknown["status"], unknown["image_size"]) == ("ok", None)
    assert (stats.skipped, stats.fingerprinted, stats.bytes_fetched) == (1, 1, 20480 + len(html_page("/small.jpg", "/unknown.jpg")))


def test_a_bug_costs_one_url_not_the_run(tmp_path: Path) -> None:
    site = MockSite()
    site.route("http://s.test/p", page("/bad.jpg", "/good.jpg"))
    site.route("http://s.test/bad.jpg", RuntimeError("boom"))
    site.route("http://s.test/good.jpg", image())
    site.route("http://s.test/direct-bad", ZeroDivisionError("listed"))
    stats = crawl(tmp_path, site, ["http://s.test/p", "http://s.test/direct-bad"])
    bad, good = records(tmp_path, "http://s.test/p")
    assert (bad["status"], bad["error_kind"], good["status"]) == ("error", "internal", "ok")
    assert "RuntimeError: boom" in str(bad["error"])
    [listed] = records(tmp_path, "http://s.test/direct-bad")
    assert (listed["error_kind"], stats.done, stats.errors["internal"]) == ("internal", 2, 2)
