"""Bad input end to end: a junk-filled urls.txt, IDN hosts, truncated image headers.

The URL list goes through the real CLI against the faulty server: junk lines
and non-http schemes are reported with their line numbers, 10,000 spellings
of one URL cost one request, and images cut to a few bytes are fingerprinted
or given a clear error. IDN hosts are crawled in-process through the faulty
server acting as an HTTP proxy, so no name is ever resolved: the test sees
the Host header each request carried. Last, property tests mutate real
corpus headers and feed them to the fingerprint and the record decision.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.answers import ImageResponse
from crawler.fingerprint.compute import fingerprint
from crawler.net.fetch import Fetcher
from crawler.pages.urls import parse_url_lines, read_url_list
from crawler.records import assess, image_record
from crawler.run.crawl import Crawl
from crawler.settings import load_settings
from crawler.store.files import Store
from tests.support import cli_process
from tests.support import faulty_server as fs
from tests.support.corpora import images

TINY = {  # listed image -> its bytes, cut inside the header
    "/t/one-byte.jpg": b"\xff",
    "/t/soi.jpg": b"\xff\xd8",
    "/t/soi-app1.jpg": b"\xff\xd8\xff\xe1\x10\x00Exif\x00\x00MM\x00*\x00\x00",
    "/t/png-signature.png": b"\x89PNG\r\n\x1a\n",
    "/t/png-half-ihdr.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    "/t/tiff-header.tif": b"II*\x00\x08\x00\x00\x00",
    "/t/tiff-one-entry.tif": b"MM\x00*\x00\x00\x00\x08\x00\x01\x01\x0f\x00\x02\x00\x00\x00\x20\x00\x00\x01\x00",
    "/t/heic-ftyp.heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
}

JUNK = [  # (line, expected reason fragment)
    ("not a url", "not an absolute URL"),
    ("ftp://127.0.0.1/file.jpg", "scheme 'ftp'"),
    ("mailto:someone@example.org", "scheme 'mailto'"),
    ("javascript:alert(1)", "scheme 'javascript'"),
    ("file:///etc/passwd", "scheme 'file'"),
    ("data:image/png;base64,AAAA", "scheme 'data'"),
    ("http://", "no host"),
    ("http://127.0.0.1:99999/x", "bad host or port"),
    ("http://exa mple.test/", "white space"),
    ("http://bü_cher.example/", "bad host or port"),
]


def test_junk_lines_duplicates_and_truncated_images_through_the_cli(tmp_path: Path) -> None:
    server = fs.FaultyServer()
    try:
        page = server.route("/dup.html", fs.static(b"<!doctype html><html><body>no images</body></html>", "text/html"))
        tiny = [server.route(path, fs.static(data)) for path, data in TINY.items()]
        empty = server.route("/t/empty.jpg", fs.range_not_satisfiable)
        spellings = [page, page.replace("http://", "HTTP://"), page + "#fragment"]
        lines = ["# a comment", "", "   "] + [text for text, _reason in JUNK] + [spellings[i % 3] for i in range(10_000)]
        lines += ["\udcff\udcfe garbage"] + tiny + [empty]
        (tmp_path / "urls.txt").write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
        result = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "out", "--no-progress", "--min-image-bytes", "0")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    shown = 5  # the first bad lines one by one, then a count
    for number, (text, reason) in enumerate(JUNK[:shown], start=4):
        assert f"urls.txt:{number}: skipped {text!r}: " in result.stderr
        assert reason in result.stderr.split(f"urls.txt:{number}: ", 1)[1].split("\n", 1)[0]
    bad = len(JUNK) + 1  # and the line of undecodable bytes
    assert f"urls.txt: {bad - shown} more line(s) skipped as not URLs ({bad} in all)" in result.stderr
    rejected = {r.text: r.reason for r in parse_url_lines([text for text, _reason in JUNK]).rejected}
    assert all(reason in rejected[text] for text, reason in JUNK)
    assert "9999 duplicate line(s) crawled once" in result.stderr
    assert server.hits["/dup.html"] == 1
    assert f"{1 + len(TINY) + 1} ({1 + len(TINY) + 1} done now" in result.stderr

    records = {r["url"]: r for r in cli_process.load_records(tmp_path / "out")}
    for path, data in TINY.items():
        record = records[server.url(path)]
        assert (record["status"], record["image_size"], record["bytes_fetched"]) == ("ok", len(data), len(data)), record
        assert record["sha256_first_10240_bytes"] == hashlib.sha256(data).hexdigest()
        assert record["random_128_bytes_sample_start"] == data.hex()
    empty_record = records[empty]
    assert (empty_record["status"], empty_record["error_kind"], empty_record["image_size"]) == ("error", "empty", 0)


def test_idn_hosts_are_requested_in_idna_2008_punycode(tmp_path: Path) -> None:
    """Through the faulty server as a proxy: the Host header is what went on the wire."""
    server = fs.FaultyServer()
    try:
        server.route("/page.html", fs.static('<html><img src="/bild.jpg"><img src="http://bücher.example/b.jpg"></html>'.encode(), "text/html"))
        server.route("/bild.jpg", fs.static(padded_jpeg()))
        server.route("/b.jpg", fs.static(padded_jpeg()))
        (tmp_path / "urls.txt").write_text(
            "http://faß.de/page.html\nhttp://xn--fa-hia.de/page.html\nhttp://FAß.DE/page.html#top\nhttp://fass.de/page.html\n"
        )
        url_list = read_url_list(tmp_path / "urls.txt")
        assert (url_list.urls, url_list.duplicates) == (["http://xn--fa-hia.de/page.html", "http://fass.de/page.html"], 2)
        crawl_through_proxy(server, url_list.urls, tmp_path / "out")
    finally:
        server.stop()
    hosts = sorted((request.host, request.path) for request in server.requests)
    assert hosts == [
        ("fass.de", "/bild.jpg"), ("fass.de", "/page.html"),
        ("xn--bcher-kva.example", "/b.jpg"),
        ("xn--fa-hia.de", "/bild.jpg"), ("xn--fa-hia.de", "/page.html"),
    ]
    records = cli_process.load_files(tmp_path / "out")[str(Store(tmp_path / "out").path_for("http://xn--fa-hia.de/page.html").relative_to(tmp_path / "out"))]
    assert [(r["url"], r["status"]) for r in records] == [
        ("http://xn--fa-hia.de/bild.jpg", "ok"), ("http://bücher.example/b.jpg", "ok"),
    ]


def padded_jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0" + bytes(range(256)) * 120


def crawl_through_proxy(server: fs.FaultyServer, urls: list[str], output: Path) -> None:
    # prefix only: the test is about the Host header of each listed and found URL, not follow-up ranges
    crawl_settings = load_settings(None, {"output.dir": str(output), "retries.attempts": 1, "fingerprint.max_rounds": 0})

    async def go() -> None:
        transport = httpx.AsyncHTTPTransport(proxy=server.url())
        async with Fetcher(crawl_settings, transport=transport) as fetcher:
            await Crawl(crawl_settings, fetcher, Store(output)).run(urls)

    asyncio.run(go())


# -- properties -----------------------------------------------------------------------

_HEADERS = images()[::4]
_PREFIXES = [path.read_bytes()[:10240] for path in _HEADERS]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_PREFIXES),
    st.lists(st.tuples(st.integers(0, 10239), st.integers(0, 255)), max_size=12),
    st.integers(0, 10240),
)
def test_mutated_real_headers_never_raise(prefix: bytes, changes: list[tuple[int, int]], cut: int) -> None:
    """Real headers with a few bytes changed and cut anywhere reach deep into the parsers."""
    data = bytearray(prefix)
    for offset, value in changes:
        if offset < len(data):
            data[offset] = value
    fp = fingerprint(bytes(data[:cut]))
    assert fp.sha256_first_10240_bytes == hashlib.sha256(bytes(data[:cut])).hexdigest()
    assert fp.width is None or fp.width > 0


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=600) | st.sampled_from(_PREFIXES),
    st.none() | st.integers(0, 1 << 40),
    st.none() | st.sampled_from(["image/jpeg", "text/html", "text/html; charset=utf-8", "", "application/octet-stream"]),
    st.integers(0, 1 << 20),
)
def test_any_answer_becomes_a_record(data: bytes, total: int | None, content_type: str | None, minimum: int) -> None:
    """Whatever bytes and headers a server sends, the record decision returns a valid record."""
    response = ImageResponse("http://a.test/i.jpg", data, total, None, None, content_type, len(data))
    fingerprint_settings = load_settings(None, {"fingerprint.min_image_bytes": minimum}).fingerprint
    record = image_record("http://a.test/i.jpg", None, response, fingerprint_settings, assess(response, fingerprint_settings))
    assert record.status in ("ok", "skipped", "error")
    assert (record.status == "ok") == (record.sha256_first_10240_bytes is not None)
    assert record.status == "ok" or record.error_kind
