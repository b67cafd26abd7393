"""The real CLI against a real misbehaving server on loopback.

One crawl (module fixture) lists a URL per fault, next to well-behaved ones:
a server that ignores Range and streams 50 MB, 206 answers with a wrong or no
Content-Range, 416, a connection reset mid-body, a server trickling a byte a
second, 429 with Retry-After, 503 then success, a redirect loop, a
certificate nobody trusts, a page over the size cap, a gzip bomb, a page with
100,000 ``<img>``, image URLs that answer HTML, and malformed JPEG, PNG, TIFF
and HEIC headers. Each test checks one fault's record field by field and
what the server saw (requests, body bytes sent); the run as a whole must
exit 0 with every good URL fingerprinted. Expected hashes are computed here
with hashlib from the served bytes.
"""

from __future__ import annotations

import asyncio
import struct
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.answers import PageResponse
from crawler.net.fetch import Fetcher
from crawler.settings import load_settings
from crawler.store.files import Store
from tests.support import cli_process
from tests.support import faulty_server as fs
from tests.support.sites import assert_fingerprinted, html_page

PREFIX = 10240
HUGE = 50 * 1024 * 1024
CAP_PAGE = 4 * 1024 * 1024  # the 100,000-image page (2.6 MB) fits
CAP_IMAGES = 20
ATTEMPTS = 3
TOTAL_TIMEOUT = 20.0  # roomy: a loaded machine must not turn slow answers into timeouts and retries
TRICKLE_TIMEOUT = 1.5  # the trickle has a run of its own, with a short total timeout
MAX_REDIRECTS = 4
MANY = 100_000
BOMB_DECODED = 200 * 1024 * 1024

SETTINGS = f"""
[fingerprint]
max_rounds = 0  # prefix only: these tests are about the prefix request; follow-ups have their own
[limits]
concurrency = 16
per_host = 16
max_page_bytes = {CAP_PAGE}
max_images_per_page = {CAP_IMAGES}
max_redirects = {MAX_REDIRECTS}
[timeouts]
connect = 2.0
read = 5.0
total = {TOTAL_TIMEOUT}
[retries]
attempts = {ATTEMPTS}
backoff = 0.05
max_backoff = 0.2
max_retry_after = 5.0
"""



def padded(head: bytes, size: int = 30_000) -> bytes:
    """``head`` followed by filler: a file whose header is broken but that is big enough to fingerprint."""
    return head + bytes(range(256)) * ((size - len(head)) // 256 + 1)


def malformed(corpus: Path) -> dict[str, tuple[bytes, str]]:
    """Served name -> (bytes, sniffed format) of images with truncated or lying headers."""
    jpeg = (corpus / "jpeg/FujiFilm_FinePixS1Pro_1.jpg").read_bytes()
    tiff = (corpus / "tiff/Issue_16.tif").read_bytes()
    heic = (corpus / "heic/exif-at-eof.heic").read_bytes()  # major brand heic (cheers_*.heic says mif1: "heif")
    png = (corpus / "png/Issue_204_dotnet.png").read_bytes()
    exif_loop = b"MM\x00*\x00\x00\x00\x08" + b"\x00\x02" + b"\x01\x0f\x00\x02\xff\xff\xff\xff\x00\x00\x00\x08" * 2 + b"\x00\x00\x00\x08"
    return {
        "jpeg-cut-in-exif.jpg": (padded(jpeg[:3000]), "jpeg"),
        "jpeg-app1-too-long.jpg": (padded(b"\xff\xd8\xff\xe1\xff\xffExif\x00\x00MM\x00*\xff\xff\xff\x00"), "jpeg"),
        "jpeg-exif-ifd-loop.jpg": (padded(b"\xff\xd8\xff\xe1" + struct.pack(">H", len(exif_loop) + 8) + b"Exif\x00\x00" + exif_loop), "jpeg"),
        "jpeg-sof-zero-size.jpg": (padded(b"\xff\xd8\xff\xc0\x00\x11\x08\x00\x00\x00\x00\x03" + bytes(9)), "jpeg"),
        "png-ihdr-huge-length.png": (padded(b"\x89PNG\r\n\x1a\n\x7f\xff\xff\xffIHDR" + bytes(13)), "png"),
        "png-cut-in-ihdr.png": (padded(png[:20]), "png"),
        "tiff-ifd-out-of-range.tif": (padded(b"II*\x00\xf0\xff\xff\xff"), "tiff"),
        "tiff-ifd-65535-entries.tif": (padded(b"II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00\x01\x04\x00\xff\xff\xff\xff\xff\xff\xff\x7f" * 100), "tiff"),
        "tiff-cut.tif": (padded(tiff[:300]), "tiff"),
        "heic-box-size-lies.heic": (padded(heic[:32] + b"\xff\xff\xff\xffmeta" + bytes(16)), "heic"),
        "heic-cut.heic": (padded(heic[:2000]), "heic"),
    }



@dataclass
class Run:
    server: fs.FaultyServer
    tls_server: fs.FaultyServer
    output: Path
    result: cli_process.Finished
    records: dict[str, dict[str, Any]]  # by image URL
    good: bytes
    other: bytes
    broken: dict[str, tuple[bytes, str]]

    def record(self, path: str) -> dict[str, Any]:
        return self.records[self.server.url(path)]

    def listed(self, url: str) -> list[dict[str, Any]]:
        return cli_process.load_files(self.output)[str(Store(self.output).path_for(url).relative_to(self.output))]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Iterator[Run]:
    workdir = tmp_path_factory.mktemp("faults")
    good = (corpus / "jpeg/FujiFilm_FinePixS1Pro_1.jpg").read_bytes()
    other = (corpus / "jpeg/Pentax_ist_D.jpg").read_bytes()
    broken = malformed(corpus)
    server = fs.FaultyServer()
    tls_server = fs.FaultyServer(tls=fs.self_signed_context(workdir))
    try:
        listed = serve(server, good, other, broken) + [tls_server.route("/secure.jpg", fs.static(good))]
        (workdir / "urls.txt").write_text("\n".join(listed) + "\n")
        (workdir / "settings.toml").write_text(SETTINGS)
        result = cli_process.run(workdir, "crawl", "urls.txt", "-o", "out", "--no-progress")
        files = cli_process.load_files(workdir / "out")
        records = [record for records in files.values() for record in records]
        by_url = {record["url"]: record for record in records}
        assert len(by_url) == len(records), "an image was recorded twice"
        yield Run(server, tls_server, workdir / "out", result, by_url, good, other, broken)
    finally:
        server.stop()
        tls_server.stop()


def serve(server: fs.FaultyServer, good: bytes, other: bytes, broken: dict[str, tuple[bytes, str]]) -> list[str]:
    """Set up every fault's path; returns the URLs to list, in order."""
    route = server.route
    lying_html = html_page("/x.jpg", filler=30_000)
    route("/img/good.jpg", fs.static(good, etag='"good-1"'))
    route("/img/login.jpg", fs.html(b"<!doctype html><html><body>log in first</body></html>"))
    route("/img/lying.jpg", fs.static(lying_html, content_type="image/jpeg"))
    route("/img/huge-too.jpg", fs.ignore_range(good[:65536], HUGE))
    route("/img/early.jpg", fs.static(other))
    route("/img/late.jpg", fs.static(other))
    route("/img/bomb.jpg", fs.static(good))
    route("/many/", fs.static(other))
    for name, (data, _format) in broken.items():
        route(f"/broken/{name}", fs.static(data, content_type="image/" + name.rsplit(".", 1)[1]))
    bomb = fs.gzip_bomb(html_page("/img/bomb.jpg"), BOMB_DECODED)
    big = html_page("/img/early.jpg", filler=CAP_PAGE + 65536) + b'<img src="/img/late.jpg">'
    return [
        route("/good.html", fs.static(html_page("/img/good.jpg", "/img/login.jpg", "/img/lying.jpg", "/img/huge-too.jpg"), "text/html")),
        route("/huge.jpg", fs.ignore_range(good[:65536], HUGE)),
        route("/wrong-range.jpg", fs.partial(good, f"bytes 100-10339/{len(good)}")),
        route("/no-range.jpg", fs.partial(good, None)),
        route("/empty.jpg", fs.range_not_satisfiable),
        route("/short.jpg", fs.partial(good[:3000], f"bytes 0-10239/{len(good)}")),
        route("/reset.jpg", fs.reset_mid_body(good, 4000)),
        route("/reset-once.jpg", fs.first_then(fs.reset_mid_body(good, 4000), fs.static(good))),
        route("/429.jpg", fs.fail_first(1, 429, fs.static(good), {"Retry-After": "1"})),
        route("/503.jpg", fs.fail_first(1, 503, fs.static(good))),
        route("/loop", fs.redirect("/loop")),
        route("/big.html", fs.static(big, "text/html")),
        route("/bomb.html", fs.gzipped(bomb)),
        route("/many.html", fs.html(html_page(*(f"/many/{i}.jpg" for i in range(MANY))))),
        route("/broken.html", fs.static(html_page(*(f"/broken/{name}" for name in broken)), "text/html")),
        route("/direct.jpg", fs.static(other)),
    ]



def assert_error(record: dict[str, Any], kind: str) -> None:
    assert (record["status"], record["error_kind"]) == ("error", kind), record
    assert record["error"] and record["sha256_first_10240_bytes"] is None


# -- the run as a whole ------------------------------------------------------------


def test_the_run_completes_and_good_urls_are_fingerprinted(run: Run) -> None:
    assert run.result.returncode == 0, run.result.stderr
    assert "Traceback" not in run.result.stderr
    assert not run.server.failures and not run.tls_server.failures
    assert_fingerprinted(run.record("/direct.jpg"), run.other, len(run.other))
    good = run.record("/img/good.jpg")
    assert_fingerprinted(good, run.good, len(run.good))
    assert (good["etag"], good["bytes_fetched"], good["page_url"]) == ("good-1", PREFIX, run.server.url("/good.html"))
    assert run.result.seconds < 30


def test_the_summary_counts_pages_cut_and_images_over_the_cap(run: Run) -> None:
    stderr = run.result.stderr
    assert "crawl finished" in stderr
    assert "5 (2 cut at the size cap)" in stderr  # big.html and the gzip bomb
    found = 4 + 1 + 1 + MANY + len(run.broken)
    assert f"{found} ({MANY - CAP_IMAGES} over the per-page cap)" in stderr


# -- Range -----------------------------------------------------------------------------


def test_a_server_ignoring_range_is_read_only_up_to_the_prefix(run: Run) -> None:
    for path, page_url in (("/huge.jpg", None), ("/img/huge-too.jpg", run.server.url("/good.html"))):
        record = run.record(path)
        assert_fingerprinted(record, run.good, HUGE)
        assert record["page_url"] == page_url
        # One network read past the prefix at most (httpcore reads 64 KiB at a time).
        assert PREFIX <= record["bytes_fetched"] <= PREFIX + 64 * 1024, record["bytes_fetched"]
        assert run.server.hits[path] == 1
        # Sent before the close: what the crawler read plus what the client's
        # kernel had buffered unread (about 320 KB on loopback), not 50 MB.
        assert run.server.sent[path] < PREFIX + 1024 * 1024, run.server.sent[path]


def test_a_range_not_starting_at_zero_is_a_bad_range_error(run: Run) -> None:
    assert_error(run.record("/wrong-range.jpg"), "bad_range")
    assert run.server.hits["/wrong-range.jpg"] == 1, "a lying server is not asked again"


def test_a_206_without_content_range_is_fingerprinted_with_unknown_size(run: Run) -> None:
    record = run.record("/no-range.jpg")
    assert_fingerprinted(record, run.good, None)
    assert record["bytes_fetched"] == PREFIX


def test_416_for_an_empty_file_is_skipped_with_size_zero(run: Run) -> None:
    record = run.record("/empty.jpg")
    assert (record["status"], record["error_kind"], record["image_size"], record["bytes_fetched"]) == (
        "skipped", "too_small", 0, 0)
    assert record["page_url"] is None


def test_a_body_shorter_than_promised_is_a_short_read(run: Run) -> None:
    record = run.record("/short.jpg")
    assert (record["status"], record["error_kind"], record["image_size"]) == ("error", "short_read", len(run.good))
    assert record["bytes_fetched"] == 3000


# -- connections, timeouts, retries ---------------------------------------------------


def test_a_connection_reset_mid_body_is_retried_then_recorded(run: Run) -> None:
    reset = run.record("/reset.jpg")
    assert_error(reset, "network")
    assert "ReadError" in reset["error"], "not a reset: a clean close gives RemoteProtocolError"
    assert run.server.hits["/reset.jpg"] == ATTEMPTS
    assert_fingerprinted(run.record("/reset-once.jpg"), run.good, len(run.good))
    assert run.server.hits["/reset-once.jpg"] == 2


def test_a_trickling_server_is_cut_by_the_total_timeout_on_every_attempt(
    tmp_path: Path, corpus: Path
) -> None:
    server = fs.FaultyServer()
    try:
        url = server.route("/trickle.jpg", fs.trickle((corpus / "jpeg/FujiFilm_FinePixS1Pro_1.jpg").read_bytes()))
        (tmp_path / "urls.txt").write_text(url + "\n")
        (tmp_path / "settings.toml").write_text(SETTINGS.replace(f"total = {TOTAL_TIMEOUT}", f"total = {TRICKLE_TIMEOUT}"))
        result = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "out", "--no-progress")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    [[record]] = cli_process.load_files(tmp_path / "out").values()
    assert_error(record, "timeout")
    assert f"within {TRICKLE_TIMEOUT:g} s" in record["error"]
    attempts = server.requests_for("/trickle.jpg")
    assert len(attempts) == ATTEMPTS
    gaps = [later.time - earlier.time for earlier, later in zip(attempts, attempts[1:])]
    # timeout + backoff, give or take the connection set-up of a busy first moment
    assert all(TRICKLE_TIMEOUT - 0.25 <= gap < TRICKLE_TIMEOUT + 1.5 for gap in gaps), gaps
    # Per attempt: bytes at 0 s and 1 s, then one more the kernel takes after the close.
    assert server.sent["/trickle.jpg"] <= 3 * ATTEMPTS, "the trickle was not cut"


def test_429_waits_for_retry_after_then_succeeds(run: Run) -> None:
    assert_fingerprinted(run.record("/429.jpg"), run.good, len(run.good))
    first, second = run.server.requests_for("/429.jpg")
    assert second.time - first.time >= 1.0


def test_503_then_success(run: Run) -> None:
    assert_fingerprinted(run.record("/503.jpg"), run.good, len(run.good))
    assert run.server.hits["/503.jpg"] == 2


def test_a_redirect_loop_ends_at_the_redirect_limit_without_retries(run: Run) -> None:
    assert_error(run.record("/loop"), "redirects")
    assert run.server.hits["/loop"] == MAX_REDIRECTS + 1


def test_an_untrusted_certificate_is_a_tls_error_not_retried(run: Run) -> None:
    record = run.records[run.tls_server.url("/secure.jpg")]
    assert_error(record, "tls")
    assert "CERTIFICATE_VERIFY_FAILED" in record["error"]
    assert run.tls_server.connections == 1
    assert run.tls_server.hits["/secure.jpg"] == 0, "no request went over the refused connection"


# -- pages -------------------------------------------------------------------------------


def test_a_page_over_the_size_cap_is_cut(run: Run) -> None:
    [record] = run.listed(run.server.url("/big.html"))
    assert_fingerprinted(record, run.other, len(run.other))
    assert record["url"] == run.server.url("/img/early.jpg")
    assert run.server.hits["/img/late.jpg"] == 0, "an image past the cap was fetched"
    ranged, whole = run.server.requests_for("/big.html")
    assert (ranged.range, whole.range) == ("bytes=0-10239", None)


def test_a_gzip_bomb_page_is_cut_at_the_cap_and_memory_stays_flat(run: Run) -> None:
    [record] = run.listed(run.server.url("/bomb.html"))
    assert_fingerprinted(record, run.good, len(run.good))
    assert run.server.hits["/bomb.html"] == 1
    # The whole run (100,000-image page included) stays small; decoding one
    # 64 KiB read of this bomb whole would take about 64 MiB at once.
    assert run.result.max_rss_mib < 200, run.result.max_rss_mib


def test_gzip_bomb_memory_and_decoded_bytes() -> None:
    """In-process, traced: the bomb is decoded up to the cap and no further."""
    server = fs.FaultyServer()
    try:
        url = server.route("/bomb.html", fs.gzipped(fs.gzip_bomb(html_page("/a.jpg"), BOMB_DECODED)))
        settings = load_settings(None, {"limits.max_page_bytes": CAP_PAGE})

        async def fetch() -> PageResponse:
            async with Fetcher(settings) as fetcher:
                response = await fetcher.fetch_any(url)
                assert isinstance(response, PageResponse)
                return response

        tracemalloc.start()
        try:
            response = asyncio.run(fetch())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    finally:
        server.stop()
    assert (len(response.body), response.truncated) == (CAP_PAGE, True)
    assert response.body.startswith(html_page("/a.jpg")[:-len(b"</body></html>")])
    assert response.bytes_fetched <= 2 * 64 * 1024, "read on past what the cap needed"
    assert peak < 4 * CAP_PAGE + 4 * 1024 * 1024, peak


def test_a_page_with_100000_images_is_capped_and_counted(run: Run) -> None:
    records = run.listed(run.server.url("/many.html"))
    assert [r["url"] for r in records] == [run.server.url(f"/many/{i}.jpg") for i in range(CAP_IMAGES)]
    assert all(r["status"] == "ok" for r in records)
    assert sum(hits for path, hits in run.server.hits.items() if path.startswith("/many/")) == CAP_IMAGES
    [listed] = run.server.requests_for("/many.html")
    first_image = min(r.time for r in run.server.requests if r.path.startswith("/many/"))
    assert first_image - listed.time < 10, "reading 100,000 <img> took too long"


def test_image_urls_that_answer_html_are_not_images(run: Run) -> None:
    login = run.record("/img/login.jpg")
    assert_error(login, "not_image")
    assert login["content_type"] == "text/html; charset=utf-8"
    lying = run.record("/img/lying.jpg")
    assert_error(lying, "not_image")
    assert (lying["content_type"], lying["image_size"]) == ("image/jpeg", len(html_page("/x.jpg", filler=30_000)))


# -- malformed images ---------------------------------------------------------------------


def test_malformed_headers_are_fingerprinted_without_a_crash(run: Run) -> None:
    records = run.listed(run.server.url("/broken.html"))
    assert len(records) == len(run.broken)
    for record in records:
        name = record["url"].rsplit("/", 1)[1]
        data, sniffed = run.broken[name]
        assert_fingerprinted(record, data, len(data))
        assert record["format"] == sniffed, name
        assert record["width"] is None or record["width"] > 0, name
