"""``crawler match``: the evidence rules on hand-made records, and the real CLI on a real crawl."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.fingerprint.analyze import analyze
from crawler.fingerprint.sparse import SparseBuffer
from crawler.index.base import Database
from crawler.index.database import connect
from crawler.index.writer import IndexWriter
from crawler.match.evidence import Thresholds
from crawler.match.find import find_groups
from crawler.match.model import GROUPS, Group
from crawler.models import ImageRecord
from tests.support import cli_process
from tests.support.index_helpers import make_site

PREFIX_A, PREFIX_B = "a" * 64, "b" * 64
DEFAULT = Thresholds(thumbnail=8, band=7)


@pytest.fixture
def database(index_url: str) -> Iterator[Database]:
    """An empty index, SQLite then PostgreSQL: the same rules on both backends."""
    opened = connect(index_url)
    yield opened
    opened.close()


def add(database: Database, *records: dict[str, Any]) -> None:
    IndexWriter(database, "run-1").add([ImageRecord(status="ok", **fields) for fields in records])


def urls(groups: list[Group]) -> list[list[str]]:
    return [[member.url for member in group.members] for group in groups]


def test_two_images_without_etag_or_keys_are_never_grouped(database: Database) -> None:
    add(database, {"url": "http://h.test/1.jpg", "image_size": 30000, "sha256_first_10240_bytes": PREFIX_A},
        {"url": "http://h.test/2.jpg", "image_size": 30000, "sha256_first_10240_bytes": PREFIX_B},
        {"url": "http://h.test/3.jpg"}, {"url": "http://h.test/4.jpg"})
    assert find_groups(database, DEFAULT) == []


def test_an_equal_etag_alone_groups_nothing_and_supports_only_on_one_host(database: Database) -> None:
    add(database, {"url": "http://h.test/1.jpg", "etag": "abc", "sha256_first_10240_bytes": PREFIX_A, "image_size": 1},
        {"url": "http://h.test/2.jpg", "etag": "abc", "sha256_first_10240_bytes": PREFIX_B, "image_size": 1})
    assert find_groups(database, DEFAULT) == []
    add(database, {"url": "http://h.test/3.jpg", "etag": "abc", "sha256_first_10240_bytes": PREFIX_A, "image_size": 1},
        {"url": "http://other.test/3.jpg", "etag": "abc", "sha256_first_10240_bytes": PREFIX_A, "image_size": 1})
    [group] = find_groups(database, DEFAULT)
    assert group.supporting == ['ETag "abc" shared by 2 URLs on h.test']


def test_the_same_prefix_with_another_size_is_not_an_identical_file(database: Database) -> None:
    add(database, {"url": "http://h.test/small.jpg", "image_size": 30000, "sha256_first_10240_bytes": PREFIX_A},
        {"url": "http://g.test/large.jpg", "image_size": 90000, "sha256_first_10240_bytes": PREFIX_A},
        {"url": "http://h.test/unknown1.jpg", "sha256_first_10240_bytes": PREFIX_A},
        {"url": "http://h.test/unknown2.jpg", "sha256_first_10240_bytes": PREFIX_A})
    assert find_groups(database, DEFAULT) == []
    add(database, {"url": "http://g.test/copy.jpg", "image_size": 30000, "sha256_first_10240_bytes": PREFIX_A})
    [group] = find_groups(database, DEFAULT)
    assert (group.level, group.evidence) == (1, "identical file")
    assert urls([group]) == [["http://g.test/copy.jpg", "http://h.test/small.jpg"]]
    assert (group.hosts, group.urls) == (2, 2)


def test_levels_files_pictures_and_phash_distances(database: Database) -> None:
    phash = 0x0123456789ABCDEF
    add(database,
        {"url": "http://a.test/1.jpg", "image_size": 50000, "sha256_first_10240_bytes": PREFIX_A,
         "content_sha256": "c" * 64, "perceptual_hash": f"{phash:016x}", "perceptual_hash_source": "exif_thumbnail", "page_url": "http://a.test/page"},
        {"url": "http://b.test/1.jpg", "image_size": 50000, "sha256_first_10240_bytes": PREFIX_A,
         "content_sha256": "c" * 64, "perceptual_hash": f"{phash:016x}", "perceptual_hash_source": "exif_thumbnail"},
        {"url": "http://c.test/stripped.jpg", "image_size": 40000, "sha256_first_10240_bytes": PREFIX_B,
         "content_sha256": "c" * 64},
        {"url": "http://d.test/resized.jpg", "image_size": 20000, "sha256_first_10240_bytes": "d" * 64,
         "perceptual_hash": f"{phash ^ 0b10110:016x}", "perceptual_hash_source": "exif_thumbnail"},
        {"url": "http://e.test/other.jpg", "image_size": 20000, "sha256_first_10240_bytes": "e" * 64,
         "perceptual_hash": f"{phash ^ 0x1FF00:016x}", "perceptual_hash_source": "exif_thumbnail"})  # 9 bits off a, 12 off d: over the threshold
    [group] = find_groups(database, DEFAULT)
    assert group.level == 3 and group.evidence == "similar picture" and group.max_phash_distance == 3
    by_url = {m.url: m for m in group.members}
    assert set(by_url) == {"http://a.test/1.jpg", "http://b.test/1.jpg", "http://c.test/stripped.jpg",
                           "http://d.test/resized.jpg"}
    assert by_url["http://a.test/1.jpg"].file == by_url["http://b.test/1.jpg"].file
    assert by_url["http://a.test/1.jpg"].picture == by_url["http://c.test/stripped.jpg"].picture
    assert by_url["http://c.test/stripped.jpg"].file != by_url["http://a.test/1.jpg"].file
    assert by_url["http://d.test/resized.jpg"].phash_distance == 3
    assert by_url["http://a.test/1.jpg"].page_url == "http://a.test/page"
    assert by_url["http://b.test/1.jpg"].page_url is None
    assert [g.level for g in find_groups(database, Thresholds(9, 7))] == [3] and len(find_groups(database, Thresholds(9, 7))[0].members) == 5
    assert [g.level for g in find_groups(database, Thresholds(0, 7))] == [2]


def test_band_hashes_compare_only_with_bands_of_their_kind_at_the_band_threshold(database: Database) -> None:
    phash = 0x0F1E2D3C4B5A6978
    def hashed(url: str, bits: int, source: str, width: int | None = 800, height: int | None = 600) -> dict[str, Any]:
        return {"url": url, "perceptual_hash": f"{bits:016x}", "perceptual_hash_source": source,
                "width": width, "height": height}
    add(database,
        hashed("http://a.test/web.jpg", phash, "top_band_8:jpeg_baseline"),
        hashed("http://b.test/web.png", phash ^ 0b1111111, "top_band_8:png", 401, 301),  # 7 bits, resized: the same
        hashed("http://c.test/far.jpg", phash ^ 0xFF00, "top_band_8:jpeg_progressive"),  # 8 bits: not
        hashed("http://d.test/thumb.jpg", phash, "exif_thumbnail"),  # equal bits, another kind: never
        hashed("http://e.test/tall.jpg", phash, "top_band_2:jpeg_baseline"),  # another band: never
        hashed("http://f.test/square.jpg", phash, "top_band_8:jpeg_baseline", 600, 600),  # another shape: never
        hashed("http://g.test/unknown.jpg", phash, "top_band_8:jpeg_baseline", None, None))  # no size: never
    [group] = find_groups(database, DEFAULT)
    assert urls([group]) == [["http://a.test/web.jpg", "http://b.test/web.png"]]
    assert [(m.phash_kind, m.phash_distance) for m in group.members] == [("top_band_8", 0), ("top_band_8", 7)]
    assert group.max_phash_distance == 7
    assert urls(find_groups(database, Thresholds(thumbnail=8, band=8))) == [
        ["http://a.test/web.jpg", "http://b.test/web.png", "http://c.test/far.jpg"]]


def site_crawl(tmp_path: Path, nginx_factory: Any, corpus: Path) -> Path:
    make_site(tmp_path / "site", corpus)
    server = nginx_factory(tmp_path / "site")
    (tmp_path / "urls.txt").write_text(server.url("/index.html") + "\n" + server.url("/img0.jpg") + "\n")
    done = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress")
    assert done.returncode == 0, done.stderr
    return tmp_path / "data"


def test_the_cli_lists_the_copies_of_a_crawled_image_in_every_format(
        tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    site_crawl(tmp_path, nginx_factory, corpus)
    done = cli_process.run(tmp_path, "match", "data", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    group = GROUPS.validate_json(line)
    assert group.level == 1
    assert sorted(m.url.rsplit("/", 1)[1] for m in group.members) == ["copy_of_img0.jpg", "img0.jpg", "img0.jpg"]
    assert {m.page_url is None for m in group.members} == {True, False}
    assert all(m.format == "jpeg" and m.width and m.image_size for m in group.members)
    table = cli_process.run(tmp_path, "match", "data")
    assert "Group 1: identical file (level 1): 3 sightings, 2 URL(s) on 1 host(s)" in table.stdout
    rows = list(csv.DictReader(io.StringIO(cli_process.run(tmp_path, "match", "data", "--format", "csv").stdout)))
    assert len(rows) == 3 and {row["group"] for row in rows} == {"1"} and rows[0]["exif_make"]
    schema = json.loads(cli_process.run(tmp_path, "schema", "--groups").stdout)
    assert "members" in schema["properties"]


def test_match_reads_while_a_crawl_holds_the_write_lock(tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    data = site_crawl(tmp_path, nginx_factory, corpus)
    writer = sqlite3.connect(data / "index.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE images SET last_run = 'still-writing'")
    try:
        done = cli_process.run(tmp_path, "match", "data", "--format", "jsonl", timeout=30)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 and done.seconds < 20


def test_match_without_an_index_says_how_to_make_one(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    done = cli_process.run(tmp_path, "match", "data")
    assert done.returncode == 2 and "no index at data/index.sqlite" in done.stderr
    assert "crawler index data" in done.stderr


def test_one_image_by_file_or_url_is_found_where_it_appears(tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    from PIL import Image

    site_crawl(tmp_path, nginx_factory, corpus)
    server_url = (tmp_path / "urls.txt").read_text().split("/index.html")[0]
    done = cli_process.run(tmp_path, "match", "data", "--image", "site/img0.jpg", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    [group] = [GROUPS.validate_json(line) for line in done.stdout.splitlines()]
    assert group.level == 1 and len(group.members) == 3
    assert "site/img0.jpg: jpeg" in done.stderr
    by_url = cli_process.run(tmp_path, "match", "data", "--image", f"{server_url}/img2.jpg", "--format", "jsonl")
    [group] = [GROUPS.validate_json(line) for line in by_url.stdout.splitlines()]
    assert [m.url for m in group.members] == [f"{server_url}/img2.jpg"] and group.level == 1
    # level 3 compares EXIF-thumbnail pHashes: re-save a site image (not img0, which has a copy) that has one
    name = next(f"img{i}.jpg" for i in range(1, 10)
                if analyze(SparseBuffer.of((tmp_path / "site" / f"img{i}.jpg").read_bytes())).thumbnail)
    with Image.open(tmp_path / "site" / name) as image:
        image.save(tmp_path / "resaved.jpg", quality=70, exif=image.info["exif"])
    resaved = cli_process.run(tmp_path, "match", "data", "--image", "resaved.jpg", "--format", "jsonl")
    groups = [GROUPS.validate_json(line) for line in resaved.stdout.splitlines()]
    assert [(g.level, [m.url.rsplit("/", 1)[1] for m in g.members]) for g in groups] == [(3, [name])]
    assert groups[0].members[0].phash_distance == 0
    missing = cli_process.run(tmp_path, "match", "data", "--image", "nothing.jpg")
    assert missing.returncode == 1 and "cannot read nothing.jpg" in missing.stderr


def test_a_web_image_without_thumbnail_is_matched_by_its_band_hash(
        tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    from PIL import Image

    site = tmp_path / "site"
    site.mkdir()
    photos = sorted((corpus / "jpeg").glob("*.jpg"))[:2]
    for name, photo in zip(("web", "other"), photos):
        with Image.open(photo) as opened:
            picture = opened.convert("RGB")
        web = picture.resize((1024, round(1024 * picture.height / picture.width)))
        web.save(site / f"{name}.jpg", quality=90)  # as sites post them: no EXIF, no thumbnail
    with Image.open(site / "web.jpg") as web_image:  # copies over fingerprint.min_image_bytes (20 KB)
        web_image.resize((640, web_image.height * 5 // 8)).save(site / "web_small.jpg", quality=85)
        web_image.resize((800, web_image.height * 25 // 32)).save(tmp_path / "query.jpg", quality=85, progressive=True)
    (site / "index.html").write_text("".join(f'<img src="{n}.jpg">' for n in ("web", "web_small", "other")))
    server = nginx_factory(site)
    (tmp_path / "urls.txt").write_text(server.url("/index.html") + "\n")
    assert cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress").returncode == 0
    done = cli_process.run(tmp_path, "match", "data", "--format", "jsonl")
    [group] = [GROUPS.validate_json(line) for line in done.stdout.splitlines()]
    assert group.level == 3 and sorted(m.url.rsplit("/", 1)[1] for m in group.members) == ["web.jpg", "web_small.jpg"]
    [kind] = {m.phash_kind for m in group.members}  # top_band_8, or top_band_2 when the top eighth is plain
    assert kind is not None and kind.startswith("top_band_")
    assert group.max_phash_distance is not None and group.max_phash_distance <= 7
    query = cli_process.run(tmp_path, "match", "data", "--image", "query.jpg", "--format", "jsonl")
    assert f"({kind}:jpeg_progressive)" in query.stderr, query.stderr
    [found] = [GROUPS.validate_json(line) for line in query.stdout.splitlines()]
    assert found.level == 3 and sorted(m.url.rsplit("/", 1)[1] for m in found.members) == ["web.jpg", "web_small.jpg"]
