"""The real CLI against nginx on loopback, checked against the files themselves.

Every expected value is computed from the served files (here and in
``tests/support/sites.py``), independently of the crawler's code: sizes from the file system, hashes with hashlib, the
sample offset from its documented rule, ETags from nginx's documented
mtime-size format, EXIF with Pillow.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import exifread
import pytest
from PIL import Image

from crawler.evaluation.edits import strip_metadata
from tests.support import cli_process
from tests.support.servers import Nginx
from tests.support.sites import (
    BASED,
    IMAGES,
    INDEX,
    assert_fingerprinted,
    build_site,
    expected_fields,
)


@pytest.fixture
def site(tmp_path: Path, corpus: Path) -> Path:
    return build_site(tmp_path / "site", corpus, IMAGES, {"index.html": INDEX, "based.html": BASED})


def test_crawl_records_match_the_served_files(tmp_path: Path, site: Path, nginx_factory: Callable[..., Nginx]) -> None:
    server = nginx_factory(site)
    urls = tmp_path / "urls.txt"
    urls.write_text(
        "# a comment, then a blank line\n\n"
        f"{server.url('/index.html')}\n"
        "this is not a url\n"
        f"{server.url('/based.html')}\n"
        f"{server.url('/index.html')}#same-page\n"
        f"{server.url('/direct.jpg')}\n"
    )
    result = cli_process.run(tmp_path, "crawl", str(urls), "--output", "out", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "urls.txt:4: skipped 'this is not a url'" in result.stderr
    assert "1 duplicate line(s)" in result.stderr

    records = cli_process.load_records(tmp_path / "out")
    by_url = {str(r["url"]).removeprefix(server.url("")): r for r in records}
    fingerprinted = set(IMAGES) - {"img/small.jpg"}
    assert set(by_url) == {"/" + name for name in IMAGES} | {"/img/missing.jpg"}
    assert len(records) == len(by_url), "an image was recorded twice"

    for name in fingerprinted:
        record = by_url["/" + name]
        data = (site / name).read_bytes()
        assert_fingerprinted(record, data, len(data))
        for key, value in expected_fields(site / name).items():
            assert record[key] == value, (name, key)
        served = [line.split() for line in server.access_log() if line.split()[1] == "/" + name]
        assert record["bytes_fetched"] == sum(int(fields[4]) for fields in served), name
        assert record["range_requests"] == len(served) - 1, name
        assert served[0][5] == '"bytes=0-10239"', name
        assert 10240 <= record["bytes_fetched"] <= 262144, name

    small = by_url["/img/small.jpg"]
    assert (small["status"], small["error_kind"], small["image_size"]) == ("skipped", "too_small", 12898)
    missing = by_url["/img/missing.jpg"]
    assert (missing["status"], missing["error_kind"]) == ("error", "http_404")

    assert by_url["/deep/dir/based.jpg"]["page_url"] == server.url("/based.html")
    assert by_url["/img/canon.jpg"]["page_url"] == server.url("/index.html")
    assert by_url["/direct.jpg"]["page_url"] is None
    assert {by_url["/img/canon.jpg"]["format"], by_url["/img/lazy.png"]["format"]} == {"jpeg", "png"}


def test_exif_matches_pillow(tmp_path: Path, site: Path, nginx_factory: Callable[..., Nginx]) -> None:
    server = nginx_factory(site)
    (tmp_path / "urls.txt").write_text(server.url("/img/canon.jpg") + "\n" + server.url("/img/og.jpg") + "\n")
    assert cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "out", "--no-progress").returncode == 0
    for record in cli_process.load_records(tmp_path / "out"):
        name = str(record["url"]).rsplit("/img/", 1)[1]
        with Image.open(site / "img" / name) as image:
            exif = image.getexif()
        exif_tags = record["exif"]
        assert isinstance(exif_tags, dict)
        assert exif_tags["Image Make"] == str(exif[0x010F]).strip()
        assert exif_tags["Image Model"] == str(exif[0x0110]).strip()
        assert exif_tags["EXIF DateTimeOriginal"] == str(exif.get_ifd(0x8769)[0x9003])


def test_bytes_on_the_wire_stay_near_the_prefix(tmp_path: Path, site: Path, nginx_factory: Callable[..., Nginx]) -> None:
    server = nginx_factory(site)
    (tmp_path / "urls.txt").write_text(server.url("/index.html") + "\n")
    assert cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "out", "--no-progress").returncode == 0
    images = [line.split() for line in server.access_log() if "/img/" in line]
    assert images, "no image request reached nginx"
    first: set[str] = set()
    for _method, uri, status, _sent, body_bytes, range_header, *_ in images:
        if status == "206" and uri not in first:  # the prefix; follow-up ranges come after it
            first.add(uri)
            assert int(body_bytes) == 10240, uri
            assert range_header == '"bytes=0-10239"', uri
    assert all(status != "200" for _method, _uri, status, *_ in images), "a full download happened"
    sizes = {uri: (site / uri.lstrip("/")).stat().st_size for _m, uri, *_ in images if (site / uri.lstrip("/")).exists()}
    fetched: dict[str, int] = {}
    for _method, uri, _status, _sent, body_bytes, *_ in images:
        fetched[uri] = fetched.get(uri, 0) + int(body_bytes)
    for uri, size in sizes.items():
        assert fetched[uri] <= min(size, 262144), uri
    assert not any(line.startswith("HEAD ") for line in server.access_log())


def test_connections_are_reused(tmp_path: Path, site: Path, nginx_factory: Callable[..., Nginx]) -> None:
    """A prefix read to the end of its 206 leaves the connection reusable.

    The first request goes to a host not heard from yet (a probe, on a
    connection of its own); every request after its answer shares one.
    """
    server = nginx_factory(site)
    (tmp_path / "urls.txt").write_text(server.url("/index.html") + "\n" + server.url("/direct.jpg") + "\n")
    (tmp_path / "one-probe.toml").write_text("[limits]\ndead_host_failures = 1\n")  # one probe at a time
    result = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "out", "--no-progress", "--concurrency", "1",
                             "--settings", "one-probe.toml")
    assert result.returncode == 0
    log = server.access_log()
    connections = [line.split()[7] for line in log]  # $connection
    assert len(log) >= 10
    assert len(set(connections[1:])) == 1, f"{len(set(connections))} connections for {len(log)} requests"


def test_adaptive_ranges_give_whole_file_exif_and_a_metadata_blind_content_hash(
    tmp_path: Path, corpus: Path, nginx_factory: Callable[..., Nginx]
) -> None:
    originals = {"late.jpg": "jpeg/Pentax_ist_D.jpg", "pentax.jpg": "jpeg/FujiFilm_FinePixS1Pro_5.jpg", "eof.heic": "heic/exif-at-eof.heic"}
    root = build_site(tmp_path / "site", corpus, originals, {})
    (root / "stripped.jpg").write_bytes(strip_metadata((corpus / "jpeg/Pentax_ist_D.jpg").read_bytes(), "jpeg"))
    server = nginx_factory(root)
    (tmp_path / "urls.txt").write_text("".join(server.url(f"/{name}") + "\n" for name in [*originals, "stripped.jpg"]))
    assert cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "out", "--no-progress").returncode == 0
    by_name = {str(r["url"]).rsplit("/", 1)[1]: r for r in cli_process.load_records(tmp_path / "out")}
    for served in originals:
        data = (root / served).read_bytes()
        whole = exifread.process_file(io.BytesIO(data), details=False)
        expected = {k: str(v.printable).strip("\x00 ").strip() for k, v in whole.items() if hasattr(v, "printable")}
        assert expected and by_name[served]["exif"] == expected, served
    for served in ("late.jpg", "pentax.jpg"):
        with Image.open(root / served) as image:
            assert (by_name[served]["width"], by_name[served]["height"]) == image.size, served
    late, stripped = by_name["late.jpg"], by_name["stripped.jpg"]
    assert late["content_sha256"] is not None
    assert late["content_sha256"] == stripped["content_sha256"]
    assert late["sha256_first_10240_bytes"] != stripped["sha256_first_10240_bytes"]
    assert by_name["pentax.jpg"]["content_sha256"] != late["content_sha256"]
