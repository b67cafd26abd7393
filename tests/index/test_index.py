"""The fingerprint index: written by the crawl, rebuilt from the files, versioned.

The real CLI crawls a real nginx on loopback; the index is read back with
plain sqlite3.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from crawler.index.base import IndexUnusable
from crawler.index.database import connect
from crawler.index.schema import LATEST, statements
from tests.support import cli_process
from tests.support.index_helpers import index_rows, make_site


def crawl(tmp_path: Path, nginx_factory: Any, corpus: Path, *extra: str) -> Path:
    make_site(tmp_path / "site", corpus)
    server = nginx_factory(tmp_path / "site")
    (tmp_path / "urls.txt").write_text(server.url("/index.html") + "\n" + server.url("/img1.jpg") + "\n")
    done = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress", *extra)
    assert done.returncode == 0, done.stderr
    return tmp_path / "data"


def test_a_crawl_indexes_every_record_and_a_rebuild_gives_the_same_rows(
        tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    data = crawl(tmp_path, nginx_factory, corpus)
    files = cli_process.load_files(data)
    records = [record for file in files.values() for record in file]
    incremental = index_rows(data / "index.sqlite")
    assert len(incremental) == len(records) == 8  # 7 on the page + 1 listed directly
    with sqlite3.connect(data / "index.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM runs WHERE kind = 'crawl'").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM images WHERE phash IS NOT NULL").fetchone()[0] >= 1
    (data / "index.sqlite").rename(tmp_path / "incremental.sqlite")
    done = cli_process.run(tmp_path, "index", "data")
    assert done.returncode == 0, done.stderr
    assert "indexed 8 records from 2 files" in done.stderr
    assert index_rows(data / "index.sqlite") == incremental


def test_records_accumulate_over_runs_with_first_and_last_seen(
        tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    data = crawl(tmp_path, nginx_factory, corpus)
    for path in data.glob("*/*.json"):
        path.unlink()  # the next run refetches everything
    done = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(data / "index.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
        rows = conn.execute("SELECT first_seen < last_seen, first_run != last_run FROM images").fetchall()
    assert len(rows) == 8 and all(row == (1, 1) for row in rows)


def test_worker_processes_each_index_their_share(tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    make_site(tmp_path / "site", corpus)
    server = nginx_factory(tmp_path / "site")
    urls = [server.url(f"/img{i}.jpg") for i in range(6)] + [server.url("/index.html")]
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n")
    done = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress", "--processes", "2")
    assert done.returncode == 0, done.stderr
    assert len(index_rows(tmp_path / "data" / "index.sqlite")) == 6 + 7


def test_a_rebuild_reports_bad_files_and_reads_records_of_older_versions(tmp_path: Path) -> None:
    host = tmp_path / "data" / "old.example"
    host.mkdir(parents=True)
    (host / "truncated.json").write_text('[{"url": "http://old.example/a.jpg", "sta')
    (host / "not_json.json").write_text("hello")
    first_version = {"url": "http://old.example/b.jpg", "image_size": 30000, "etag": None,
                     "timestamp": "2020-01-01T00:00:00Z", "exif": {},
                     "sha256_first_10240_bytes": "ab" * 32, "random_128_bytes_sample_start": "00" * 128}
    (host / "old.json").write_text(json.dumps([first_version, {"status": "ok"}, {"url": "x", "future": 1,
                                                                                  "status": "error"}]))
    done = cli_process.run(tmp_path, "index", "data")
    assert done.returncode == 0, done.stderr
    assert "truncated.json: skipped, not readable JSON" in done.stderr
    assert "not_json.json: skipped, not readable JSON" in done.stderr
    assert "old.json: record 2 skipped: url: Field required" in done.stderr
    rows = sqlite3.connect(tmp_path / "data" / "index.sqlite").execute(
        "SELECT url, status, prefix_sha256, first_seen FROM images ORDER BY url").fetchall()
    assert rows == [("http://old.example/b.jpg", "ok", "ab" * 32, "2020-01-01T00:00:00.000000Z"),
                    ("x", "error", None, rows[1][3])]


def test_an_index_from_a_newer_version_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "index.sqlite"
    connect(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(LATEST + 1),))
    with pytest.raises(IndexUnusable, match="made by a newer crawler"):
        connect(str(path))
    (tmp_path / "urls.txt").write_text("http://127.0.0.1:9/a.jpg\n")
    done = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress")
    assert done.returncode == 2 and "made by a newer crawler" in done.stderr
    assert not list((tmp_path / "data").glob("*/*.json"))  # refused before any request


def test_an_index_of_schema_version_1_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    with sqlite3.connect(path) as conn:
        for sql in statements(0, "sqlite"):
            conn.execute(sql)
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    connect(str(path)).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone()[0] == str(LATEST)
        assert conn.execute("SELECT count(*) FROM known_sets").fetchone()[0] == 0


def test_an_index_of_schema_version_2_gets_the_kind_of_its_thumbnail_phashes(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    with sqlite3.connect(path) as conn:
        for version in (0, 1):
            for sql in statements(version, "sqlite"):
                conn.execute(sql)
        conn.execute("INSERT INTO meta VALUES ('schema_version', '2')")
        seen = ("2026-01-01T00:00:00.000000Z",) * 2 + ("run",) * 2
        conn.execute("INSERT INTO images (url, page_url, host, status, phash, ph0, ph1, ph2, ph3, first_seen, last_seen,"
                     " first_run, last_run) VALUES ('http://h/1.jpg', '', 'h', 'ok', 5, 5, 0, 0, 0, ?, ?, ?, ?)", seen)
        conn.execute("INSERT INTO images (url, page_url, host, status, first_seen, last_seen, first_run, last_run)"
                     " VALUES ('http://h/2.jpg', '', 'h', 'ok', ?, ?, ?, ?)", seen)
    connect(str(path)).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone()[0] == str(LATEST)
        kinds = conn.execute("SELECT url, phash_kind FROM images ORDER BY url").fetchall()
        assert kinds == [("http://h/1.jpg", "exif_thumbnail"), ("http://h/2.jpg", None)]
        plan = " ".join(str(row) for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id, phash FROM images WHERE ph0 IN (5, 4) AND phash_kind = 'exif_thumbnail'"))
        assert "COVERING INDEX images_ph0" in plan, plan


def test_a_database_that_is_not_an_index_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(IndexUnusable, match="not a crawler index"):
        connect(str(path))
    (tmp_path / "garbage.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(IndexUnusable, match="garbage.sqlite: file is not a database"):
        connect(str(tmp_path / "garbage.sqlite"))


def test_an_interrupted_rebuild_leaves_the_previous_index_usable(tmp_path: Path) -> None:
    host = tmp_path / "data" / "many.example"
    host.mkdir(parents=True)
    record = {"url": "", "status": "ok", "sha256_first_10240_bytes": "00" * 32, "image_size": 1}
    for number in range(4000):
        (host / f"{number}.json").write_text(json.dumps([{**record, "url": f"http://many.example/{number}"}]))
    done = cli_process.run(tmp_path, "index", "data")
    assert done.returncode == 0, done.stderr
    before = index_rows(tmp_path / "data" / "index.sqlite")
    (host / "extra.json").write_text(json.dumps([{**record, "url": "http://many.example/extra"}]))
    running = cli_process.start(tmp_path, "index", "data")
    deadline = time.monotonic() + 60
    while not list((tmp_path / "data").glob(".index.sqlite.*building*")) and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(running.process.pid, signal.SIGKILL)
    cli_process.finish(running)
    assert index_rows(tmp_path / "data" / "index.sqlite") == before
    done = cli_process.run(tmp_path, "index", "data")
    assert done.returncode == 0
    assert len(index_rows(tmp_path / "data" / "index.sqlite")) == len(before) + 1
    assert not list((tmp_path / "data").glob(".index.sqlite.*"))
