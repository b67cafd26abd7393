"""The PostgreSQL backend through the real CLI: crawl, match, rebuild, known sets, versions.

The server is a real PostgreSQL started by the ``postgres`` fixture
(tests/postgres_server.py); the same commands as with SQLite, with
``--index postgresql://...``, must give the same answers.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

from crawler.index.base import IndexUnusable
from crawler.index.database import connect
from crawler.index.schema import LATEST
from crawler.match.model import GROUPS
from tests.support import cli_process
from tests.support.index_helpers import make_site


def groups(done: cli_process.Finished) -> list[tuple[int, list[str]]]:
    assert done.returncode == 0, done.stderr
    found = [GROUPS.validate_json(line) for line in done.stdout.splitlines()]
    return [(g.level, sorted(f"{m.url}|{m.page_url}" for m in g.members)) for g in found]


def test_the_same_commands_give_the_same_answers_on_postgresql(
        tmp_path: Path, nginx_factory: Any, corpus: Path, postgres: Any) -> None:
    url = postgres.database()
    make_site(tmp_path / "site", corpus)
    server = nginx_factory(tmp_path / "site")
    (tmp_path / "urls.txt").write_text(server.url("/index.html") + "\n" + server.url("/img0.jpg") + "\n")
    done = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress", "--processes", "2",
                           "--index", url)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "data" / "index.sqlite").exists()
    on_postgres = groups(cli_process.run(tmp_path, "match", "data", "--index", url, "--format", "jsonl"))
    assert cli_process.run(tmp_path, "index", "data").returncode == 0  # the SQLite index, from the same files
    on_sqlite = groups(cli_process.run(tmp_path, "match", "data", "--format", "jsonl"))
    assert on_postgres == on_sqlite and on_postgres[0][0] == 1 and len(on_postgres[0][1]) == 3
    rebuilt = cli_process.run(tmp_path, "index", "data", "--index", url)
    assert rebuilt.returncode == 0 and "indexed 8 records from 2 files" in rebuilt.stderr
    assert groups(cli_process.run(tmp_path, "match", "data", "--index", url, "--format", "jsonl")) == on_postgres
    (tmp_path / "evidence").mkdir()
    shutil.copy(tmp_path / "site" / "img0.jpg", tmp_path / "evidence")
    assert cli_process.run(tmp_path, "known", "--index", url, "add", "evidence", "--name", "ev").returncode == 0
    known = groups(cli_process.run(tmp_path, "match", "data", "--index", url, "--known", "--format", "jsonl"))
    assert known == on_postgres
    image = groups(cli_process.run(tmp_path, "match", "data", "--index", url, "--image", "site/img0.jpg",
                                   "--format", "jsonl"))
    assert image == on_postgres


def test_a_postgresql_index_from_a_newer_version_is_refused(postgres: Any) -> None:
    url = postgres.database()
    connect(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(LATEST + 1),))
    with pytest.raises(IndexUnusable, match="made by a newer crawler"):
        connect(url)


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    done = cli_process.run(tmp_path, "match", "data", "--index", "postgresql://nobody:secret@127.0.0.1:9/none")
    assert done.returncode == 2 and "cannot connect to the index postgresql://127.0.0.1:9/none" in done.stderr
    assert "secret" not in done.stderr
