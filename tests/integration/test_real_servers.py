"""The real CLI against three real servers on loopback: nginx (Range), Apache forcing gzip, Python's http.server (no Range).

A site should not change what the crawler learns of an image: each server's
records are checked against values computed from the served files (sizes
from the file system, the prefix hash with hashlib, dimensions with Pillow,
EXIF with exifread over the whole file, the content hash of the whole file)
and against each other. Where a server makes that impossible within the
per-image byte cap (EXIF at the end of a large file, read only forward), the
record must say so in ``follow_up_error``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import exifread
import pytest
from PIL import Image

from crawler.fingerprint.analyze import analyze
from crawler.fingerprint.compute import fingerprint
from crawler.fingerprint.sparse import SparseBuffer
from tests.support import cli_process
from tests.support.more_servers import Apache, HttpServer
from tests.support.servers import Nginx
from tests.support.sites import assert_fingerprinted, build_site

IMAGES = {
    "canon.jpg": "jpeg/Canon_PowerShot_S40_2.jpg",
    "pentax.jpg": "jpeg/Pentax_ist_D.jpg",  # EXIF past the 10 KB prefix
    "dotnet.png": "png/Issue_204_dotnet.png",  # small: Apache answers its Range with a gzip 206
    "eof.heic": "heic/exif-at-eof.heic",  # EXIF at the end: out of a forward reader's reach
}
CAP = 262144  # fingerprint.max_bytes_per_image


class Server(Protocol):
    def url(self, path: str = "/") -> str: ...
    def stop(self) -> None: ...


@pytest.fixture
def site(tmp_path: Path, corpus: Path) -> Path:
    return build_site(tmp_path / "site", corpus, IMAGES, {})


@pytest.fixture
def servers(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        started["nginx"] = Nginx(site, tmp_path_factory.mktemp("nginx"))
        started["apache"] = Apache(site, tmp_path_factory.mktemp("apache"))
        started["http.server"] = HttpServer(site, tmp_path_factory.mktemp("httpserver"))
        yield started
    finally:
        for server in started.values():
            server.stop()


def crawl(workdir: Path, server: Server) -> dict[str, dict[str, Any]]:
    workdir.mkdir()
    (workdir / "urls.txt").write_text("".join(server.url(f"/{name}") + "\n" for name in IMAGES))
    result = cli_process.run(workdir, "crawl", "urls.txt", "-o", "out", "--no-progress")
    assert result.returncode == 0, result.stderr
    return {str(r["url"]).rsplit("/", 1)[1]: r for r in cli_process.load_records(workdir / "out")}


def whole_file_exif(data: bytes) -> dict[str, str]:
    tags = exifread.process_file(io.BytesIO(data), details=False)
    return {k: str(v.printable).strip("\x00 ").strip() for k, v in tags.items() if hasattr(v, "printable")}


def whole_file_content_hash(data: bytes) -> str | None:
    """The content hash with the whole file known: what every record should reach."""
    layout = analyze(SparseBuffer.of(data, len(data)))
    return fingerprint(data[:10240], 128, layout).content_sha256


FINDINGS = ("format", "width", "height", "progressive", "image_data_offset", "content_sha256", "perceptual_hash",
            "perceptual_hash_source", "sha256_first_10240_bytes", "random_128_bytes_sample_start", "sample_offset")


def test_records_are_the_same_from_nginx_apache_gzip_and_http_server(
    tmp_path: Path, site: Path, servers: dict[str, Server]
) -> None:
    records = {name: crawl(tmp_path / name.replace(".", "_"), server) for name, server in servers.items()}
    for server, by_name in records.items():
        for name in IMAGES:
            record, data = by_name[name], (site / name).read_bytes()
            # Apache compresses: no size from its headers, and the answer is not read to its end.
            assert_fingerprinted(record, data, None if server == "apache" else len(data))
            assert record["content_sha256"] == whole_file_content_hash(data), (server, name)
            assert {key: record[key] for key in FINDINGS} == {key: records["nginx"][name][key] for key in FINDINGS}
            if not name.endswith(".heic"):  # Pillow reads no HEIC
                with Image.open(site / name) as image:
                    assert (record["width"], record["height"]) == image.size, (server, name)
            assert record["bytes_fetched"] <= CAP, (server, name)
            if server == "nginx" or not name.endswith(".heic"):
                assert record["exif"] == whole_file_exif(data), (server, name)
                assert record["follow_up_error"] is None, (server, name)
            else:  # EXIF at the end of 719 KB: past the cap for a reader that only moves forward
                assert "max_bytes_per_image" in record["follow_up_error"], (server, name)
                assert record["exif"].items() <= whole_file_exif(data).items()

    nginx, apache, plain = records["nginx"], records["apache"], records["http.server"]
    assert all(r["range_ignored"] is False and r["content_encoding"] is None for r in nginx.values())
    assert all(r["range_ignored"] is True and r["range_requests"] == 0 for r in plain.values())
    assert all(r["content_encoding"] == "gzip" and r["range_requests"] == 0 for r in apache.values())
    assert apache["dotnet.png"]["range_ignored"] is False  # a gzip 206: read again from its start, without Range
    assert apache["pentax.jpg"]["range_ignored"] is True  # too large for Apache to cut a range of its gzip


def test_each_image_costs_one_request_where_ranges_are_of_no_use(
    tmp_path: Path, site: Path, servers: dict[str, Server]
) -> None:
    plain, apache = servers["http.server"], servers["apache"]
    assert isinstance(plain, HttpServer) and isinstance(apache, Apache)
    crawl(tmp_path / "plain", plain)
    crawl(tmp_path / "apache", apache)
    assert sorted(line.split()[1] for line in plain.requests()) == sorted(f"/{name}" for name in IMAGES)
    apache_paths = [line.split()[1] for line in apache.access_log()]
    assert sorted(apache_paths) == sorted([*(f"/{name}" for name in IMAGES), "/dotnet.png"])
    for line in apache.access_log():
        accept = line.rsplit('"', 2)[1]
        assert "image/jpeg" in accept and "webp" not in accept and "avif" not in accept
