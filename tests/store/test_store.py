from __future__ import annotations

import json
from pathlib import Path

from crawler.models import ImageRecord
from crawler.store.files import Store


def record(**fields: object) -> ImageRecord:
    return ImageRecord.model_validate({"url": "http://a.test/i.jpg", "status": "ok", **fields})


def test_write_is_one_json_array_per_url(tmp_path: Path) -> None:
    store = Store(tmp_path)
    path = store.write("http://a.test:8080/page", [record(), record(url="http://a.test/j.jpg")])
    assert path.parent == tmp_path / "a.test_8080"
    data = json.loads(path.read_text())
    assert [r["url"] for r in data] == ["http://a.test/i.jpg", "http://a.test/j.jpg"]
    assert data[0]["timestamp"].endswith("Z")
    assert not list(tmp_path.rglob("*.partial"))


def test_done_unless_a_record_failed_for_a_retryable_reason(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert not store.is_done("http://a.test/p")
    store.write("http://a.test/p", [record(), record(status="error", error_kind="http_404")])
    assert store.is_done("http://a.test/p")
    store.write("http://a.test/q", [record(status="error", error_kind="timeout")])
    assert not store.is_done("http://a.test/q")


def test_a_corrupt_file_is_not_done(tmp_path: Path) -> None:
    store = Store(tmp_path)
    path = store.path_for("http://a.test/p")
    path.parent.mkdir(parents=True)
    path.write_text("[{\"url\": ")
    assert not store.is_done("http://a.test/p")


def test_partial_files_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    (tmp_path / "a.test").mkdir()
    (tmp_path / "a.test" / ".abc.123.partial").write_text("[")
    assert store.remove_partial_files() == 1
    assert not list(tmp_path.rglob("*.partial"))
