"""Caps against hostile servers, with the real CLI: each cap pushed past, the run goes on, memory stays bounded.

Caps tested here: header size (httpcore's 100 KiB), URL length (listed and
found on a page), pages per host. The others have their tests in
``tests/test_faults.py``: redirect chains (a redirect loop), images per
page (100,000 ``<img>``), decompressed bytes (a gzip bomb, a 50 MB body
ignoring Range, a page over the size cap) and time per request (a server
trickling a byte a second).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import cli_process
from tests.support import faulty_server as fs

MAX_URL = 2048
MAX_PAGES = 2
HEADER_BYTES = 8 * 1024 * 1024
MAX_RSS_MIB = 150  # measured about 90

SETTINGS = f"""
[limits]
max_url_length = {MAX_URL}
max_pages_per_host = {MAX_PAGES}
[retries]
attempts = 3
backoff = 0.0
"""


@dataclass
class Run:
    server: fs.FaultyServer
    result: cli_process.Finished
    records: dict[str, dict[str, Any]]


def huge_headers(exchange: fs.Exchange) -> None:
    """A status line, then header lines without end: 8 MiB before the blank line that never comes."""
    exchange.hang_up()
    exchange.handler.connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n")
    line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    for _ in range(HEADER_BYTES // len(line)):
        exchange.handler.connection.sendall(line)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Iterator[Run]:
    workdir = tmp_path_factory.mktemp("caps")
    jpeg = (corpus / "jpeg/FujiFilm_FinePixS1Pro_1.jpg").read_bytes()
    server = fs.FaultyServer()
    try:
        server.route("/headers.jpg", huge_headers)
        server.route("/img/", fs.static(jpeg))
        long_path = "/img/" + "x" * MAX_URL + ".jpg"
        server.route("/long.html", fs.html(f'<img src="{long_path}"><img src="/img/short.jpg">'.encode()))
        for i in range(MAX_PAGES + 1):
            server.route(f"/p{i}.html", fs.html(f'<img src="/img/p{i}.jpg">'.encode()))
        pages = [f"http://localhost:{server.port}/p{i}.html" for i in range(MAX_PAGES + 1)]  # a host of their own
        listed_long = server.url("/img/" + "y" * MAX_URL + ".jpg")  # not the page's: records are looked up by URL
        listed = [server.url("/headers.jpg"), server.url("/long.html"), listed_long, server.url("/img/good.jpg"), *pages]
        (workdir / "urls.txt").write_text("\n".join(listed) + "\n")
        (workdir / "settings.toml").write_text(SETTINGS)
        result = cli_process.run(workdir, "crawl", "urls.txt", "-o", "out", "--no-progress")
        files = cli_process.load_files(workdir / "out")
        records = {str(record["url"]): record for records in files.values() for record in records}
        yield Run(server, result, records)
    finally:
        server.stop()


def test_the_run_goes_on_and_memory_stays_bounded(run: Run) -> None:
    assert run.result.returncode == 0, run.result.stderr
    assert run.records[run.server.url("/img/good.jpg")]["status"] == "ok"
    assert run.result.max_rss_mib < MAX_RSS_MIB, run.result.max_rss_mib


def test_huge_headers_are_an_error_not_retried(run: Run) -> None:
    record = run.records[run.server.url("/headers.jpg")]
    assert (record["status"], record["error_kind"]) == ("error", "headers_too_large"), record
    assert run.server.hits["/headers.jpg"] == 1


def test_urls_over_the_length_cap_are_not_fetched(run: Run) -> None:
    long_url = run.server.url("/img/" + "y" * MAX_URL + ".jpg")
    assert run.records[long_url]["error_kind"] == "url_too_long"
    found_on_page = [r for r in run.records.values() if r["page_url"] == run.server.url("/long.html")]
    assert sorted(r["error_kind"] or "ok" for r in found_on_page) == ["ok", "url_too_long"]
    assert not any(path.startswith(("/img/xxx", "/img/yyy")) for path in run.server.hits), "a URL over the cap was requested"


def test_pages_past_the_per_host_cap_are_not_crawled(run: Run) -> None:
    pages = [f"http://localhost:{run.server.port}/p{i}.html" for i in range(MAX_PAGES + 1)]
    capped = [url for url in pages if run.records.get(url, {}).get("error_kind") == "pages_per_host"]
    assert len(capped) == 1, {url: run.records.get(url) for url in pages}
    assert len([path for path in run.server.hits if path.startswith("/img/p")]) == MAX_PAGES
