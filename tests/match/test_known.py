"""Known-image sets: add from a folder or archive, match, export, import, refuse bad files whole."""

from __future__ import annotations

import shutil
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

from PIL import Image

from crawler.match.model import GROUPS
from tests.support import cli_process
from tests.support.index_helpers import make_site


def crawled(tmp_path: Path, nginx_factory: Any, corpus: Path) -> Path:
    make_site(tmp_path / "site", corpus)
    server = nginx_factory(tmp_path / "site")
    (tmp_path / "urls.txt").write_text(server.url("/index.html") + "\n")
    done = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress")
    assert done.returncode == 0, done.stderr
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(tmp_path / "site" / "img2.jpg", evidence / "held.jpg")
    with Image.open(tmp_path / "site" / "img3.jpg") as image:
        image.save(evidence / "resaved.jpg", quality=60, exif=image.info["exif"])
    unrelated = sorted((corpus / "jpeg").glob("*.jpg"))[-1]
    shutil.copy(unrelated, evidence / "never_crawled.jpg")
    (evidence / "notes.txt").write_text("not an image")
    return evidence


def test_a_known_set_from_a_folder_or_archive_matches_what_was_crawled(
        tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    evidence = crawled(tmp_path, nginx_factory, corpus)
    done = cli_process.run(tmp_path, "known", "--dir", "data", "add", "evidence", "--name", "case1")
    assert done.returncode == 0, done.stderr
    assert "3 images fingerprinted, 1 skipped" in done.stderr and "notes.txt: not an image" in done.stderr
    with tarfile.open(tmp_path / "evidence.tar.gz", "w:gz") as archive:
        archive.add(evidence, arcname="ev")
    done = cli_process.run(tmp_path, "known", "--dir", "data", "add", "evidence.tar.gz", "--name", "case2",
                           "--category", "irrelevant")
    assert done.returncode == 0 and "3 images fingerprinted" in done.stderr
    matched = cli_process.run(tmp_path, "match", "data", "--known", "case1", "--format", "jsonl")
    assert matched.returncode == 0, matched.stderr
    groups = [GROUPS.validate_json(line) for line in matched.stdout.splitlines()]
    found = [(g.level, g.known[0].path, [m.url.rsplit("/", 1)[1] for m in g.members]) for g in groups]
    assert found == [(1, "held.jpg", ["img2.jpg"]), (3, "resaved.jpg", ["img3.jpg"])]
    assert groups[1].known[0].phash_distance == 0 and groups[0].known[0].category == "notable"
    every = cli_process.run(tmp_path, "match", "data", "--known", "--format", "jsonl")
    sets = sorted((g.known[0].set, g.known[0].category, g.known[0].path) for g in map(GROUPS.validate_json, every.stdout.splitlines()))
    assert sets == [("case1", "notable", "held.jpg"), ("case1", "notable", "resaved.jpg"),
                    ("case2", "irrelevant", "ev/held.jpg"), ("case2", "irrelevant", "ev/resaved.jpg")]
    table = cli_process.run(tmp_path, "match", "data", "--known", "case1")
    assert "known: set case1 (notable) held.jpg: identical file" in table.stdout
    with sqlite3.connect(tmp_path / "data" / "index.sqlite") as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(known_images)")]
    assert not any("data" in column or "thumb" in column for column in columns)  # fingerprints only


def test_a_set_survives_export_and_import_in_both_formats(tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    crawled(tmp_path, nginx_factory, corpus)
    cli_process.run(tmp_path, "known", "--dir", "data", "add", "evidence", "--name", "case1", "--category", "notable")
    for file_format in ("jsonl", "csv"):
        out = f"case1.{file_format}"
        done = cli_process.run(tmp_path, "known", "--dir", "data", "export", "case1", "--format", file_format, "-o", out)
        assert done.returncode == 0, done.stderr
        done = cli_process.run(tmp_path, "known", "--dir", "other", "import", out, "--name", f"copy_{file_format}")
        assert done.returncode == 0 and "3 fingerprints imported" in done.stderr, done.stderr
        again = cli_process.run(tmp_path, "known", "--dir", "other", "export", f"copy_{file_format}",
                                "--format", file_format)
        original = (tmp_path / out).read_text()
        assert again.stdout.splitlines()[1:] == original.splitlines()[1:]
    listing = cli_process.run(tmp_path, "known", "--dir", "other", "list").stdout
    assert "copy_jsonl\tnotable\t3 images" in listing and "copy_csv\tnotable\t3 images" in listing


def test_a_malformed_set_file_names_the_line_and_imports_nothing(tmp_path: Path) -> None:
    good = '{"path": "a.jpg", "prefix_sha256": "' + "a" * 64 + '"}'
    (tmp_path / "bad.jsonl").write_text('{"format": "crawler-known-set", "name": "bad"}\n' + good + "\n"
                                        + '{"path": "b.jpg", "phash": "xyz"}\n')
    done = cli_process.run(tmp_path, "known", "--dir", "data", "import", "bad.jsonl")
    assert done.returncode == 2 and "bad.jsonl:3: phash: String should match pattern" in done.stderr
    (tmp_path / "wrong.csv").write_text("name,sha1\nx,y\n")
    done = cli_process.run(tmp_path, "known", "--dir", "data", "import", "wrong.csv")
    assert done.returncode == 2 and "wrong.csv:1: wrong columns: expected path,file_sha256" in done.stderr
    (tmp_path / "short.csv").write_text(
        "path,file_sha256,image_size,format,width,height,prefix_sha256,content_sha256,phash\na.jpg,,1\n")
    done = cli_process.run(tmp_path, "known", "--dir", "data", "import", "short.csv")
    assert done.returncode == 2 and "short.csv:2: expected 9 fields" in done.stderr
    (tmp_path / "noheader.jsonl").write_text(good + "\n")
    done = cli_process.run(tmp_path, "known", "--dir", "data", "import", "noheader.jsonl")
    assert done.returncode == 2 and "noheader.jsonl:1: the header line must be" in done.stderr
    assert cli_process.run(tmp_path, "known", "--dir", "data", "list").stdout == ""


def test_a_set_exported_before_band_hashes_imports_its_phashes_as_thumbnails(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("path,file_sha256,image_size,format,width,height,prefix_sha256,content_sha256,"
                                      "phash\na.jpg,,1000,jpeg,,,,,0123456789abcdef\nb.jpg,,,,,,,,\n")
    done = cli_process.run(tmp_path, "known", "--dir", "data", "import", "old.csv", "--name", "old")
    assert done.returncode == 0, done.stderr
    exported = cli_process.run(tmp_path, "known", "--dir", "data", "export", "old", "--format", "csv").stdout
    assert exported.splitlines()[0].endswith(",phash,phash_kind")
    assert exported.splitlines()[1:] == ["a.jpg,,1000,jpeg,,,,,0123456789abcdef,exif_thumbnail", "b.jpg,,,,,,,,,"]


def test_a_rebuild_keeps_the_known_sets(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "set.jsonl").write_text('{"format": "crawler-known-set", "name": "kept", "category": "notable"}\n'
                                        '{"path": "a.jpg", "prefix_sha256": "' + "a" * 64 + '"}\n')
    assert cli_process.run(tmp_path, "known", "--dir", "data", "import", "set.jsonl").returncode == 0
    done = cli_process.run(tmp_path, "index", "data")
    assert done.returncode == 0, done.stderr
    assert "kept\tnotable\t1 images" in cli_process.run(tmp_path, "known", "--dir", "data", "list").stdout
