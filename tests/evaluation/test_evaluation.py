"""The harness on a generated corpus: exact counts for every method, folder and tar alike."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path
from typing import Literal

import pytest

from crawler.evaluation import collect as collect_module
from crawler.evaluation.collect import collect
from crawler.evaluation.document import to_document
from crawler.evaluation.harness import Evaluation, evaluate
from crawler.evaluation.hashing import HashParams
from crawler.fingerprint.compute import fingerprint
from tests.support.evaluation_corpus import (
    EXPECTED_COUNTS,
    EXPECTED_FP_GROUPS,
    EXPECTED_METHODS,
    EXPECTED_TRUE_GROUPS,
    NON_DUPLICATE_PAIRS,
    TRUE_PAIRS,
    corpus_files,
    write_corpus,
    write_tar,
)

PARAMS = HashParams()


def confusion(evaluation: Evaluation, method: str) -> tuple[int, int, int, int]:
    m = evaluation.methods[method]
    return (m["predicted_pairs"], m["true_positives"], m["false_positives"], m["false_negatives"])


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def evaluation(corpus_dir: Path) -> Evaluation:
    return evaluate(corpus_dir, PARAMS, workers=2)


def test_inventory_counts_every_file_once(evaluation: Evaluation) -> None:
    assert to_document(evaluation)["counts"] == EXPECTED_COUNTS
    inventory = evaluation.inventory
    assert inventory.non_image == ["alpha/readme.txt", "beta/readme.txt", "gamma/page.html"]
    assert inventory.empty == ["gamma/empty.jpg"]
    assert [r.path for r in inventory.small] == [
        "alpha/small_5000.jpg", "alpha/small_dup.jpg", "beta/small_20479.jpg", "gamma/small_dup.jpg",
    ]
    assert "gamma/boundary_20480.jpg" in [r.path for r in inventory.images]


@pytest.mark.parametrize("method", sorted(EXPECTED_METHODS))
def test_exact_confusion_counts(evaluation: Evaluation, method: str) -> None:
    assert confusion(evaluation, method) == EXPECTED_METHODS[method]
    m = evaluation.methods[method]
    assert m["true_pairs"] == TRUE_PAIRS
    assert m["non_duplicate_pairs"] == NON_DUPLICATE_PAIRS
    assert m["false_positive_rate"] == pytest.approx(m["false_positives"] / NON_DUPLICATE_PAIRS)
    assert m["recall"] == 1.0
    assert m["precision"] == pytest.approx(m["true_positives"] / m["predicted_pairs"])


def test_groups_behind_false_positives_and_true_duplicates(evaluation: Evaluation) -> None:
    for method, groups in EXPECTED_FP_GROUPS.items():
        assert evaluation.methods[method]["false_positive_groups"] == groups
    assert ["alpha/zeros_a.jpg", "beta/zeros_b.jpg"] in evaluation.methods["sample_128"]["false_positive_groups"]
    assert evaluation.true_groups == EXPECTED_TRUE_GROUPS


def test_no_swept_prefix_is_clean_but_a_longer_one_is(corpus_dir: Path, evaluation: Evaluation) -> None:
    assert evaluation.shortest_clean_prefix is None
    longer = evaluate(corpus_dir, HashParams(sweep=(256, 1024, 12288)), workers=1)
    assert [m["false_positives"] for m in longer.sweep.values()] == [6, 6, 0]
    assert longer.shortest_clean_prefix == 12288


def test_keys_come_from_the_crawlers_fingerprint(corpus_dir: Path, evaluation: Evaluation) -> None:
    image = next(r for r in evaluation.inventory.images if r.path == "alpha/dup_x.jpg")
    data = (corpus_dir / image.path).read_bytes()
    fields = fingerprint(data[:10240], 128)
    assert image.keys["prefix_sha256_10240"] == fields.sha256_first_10240_bytes
    assert image.keys["prefix_sha256_10240+size"] == f"{fields.sha256_first_10240_bytes}:{len(data)}"
    assert image.keys["sample_128"] == fields.random_128_bytes_sample_start
    assert image.format == "jpeg" and image.size == len(data)


def test_sample_size_follows_the_settings(corpus_dir: Path) -> None:
    result = evaluate(corpus_dir, HashParams(sample_bytes=64), workers=1)
    assert "sample_64" in result.methods and "sample_128" not in result.methods
    assert result.params.main_methods()[2] == "sample_64"


def test_one_worker_and_a_pool_agree(corpus_dir: Path, evaluation: Evaluation) -> None:
    serial = evaluate(corpus_dir, PARAMS, workers=1)
    assert serial.methods == evaluation.methods
    assert serial.inventory.images == evaluation.inventory.images


@pytest.mark.parametrize(("mode", "workers"), [("w", 1), ("w:gz", 1), ("w", 2)])
def test_tar_archive_gives_the_same_result(
    tmp_path: Path, evaluation: Evaluation, mode: Literal["w", "w:gz"], workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect_module, "_TAR_CHUNK", 3)  # many chunks, few in flight: every path taken
    monkeypatch.setattr(collect_module, "_TAR_AHEAD", 1)
    archive = write_tar(tmp_path / "corpus.tar", mode)
    from_tar = evaluate(archive, PARAMS, workers=workers)
    assert from_tar.inventory.kind == "tar"
    assert to_document(from_tar)["counts"] == EXPECTED_COUNTS
    assert from_tar.methods == evaluation.methods
    assert from_tar.true_groups == EXPECTED_TRUE_GROUPS


def test_progress_reports_every_file(corpus_dir: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    collect(corpus_dir, PARAMS, workers=2, progress=lambda done, total: calls.append((done, total)))
    files = len(corpus_files())
    assert calls[0] == (0, files) and calls[-1] == (files, files)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_links_fifos_and_unreadable_files_are_named_not_fatal(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "corpus")
    (root / "alpha" / "broken.jpg").symlink_to(root / "nowhere.jpg")
    (root / "gamma" / "loop").symlink_to(root)  # a directory link loop: must not be followed
    os.mkfifo(root / "beta" / "pipe.jpg")  # reading it would block forever
    result = evaluate(root, PARAMS, workers=2)
    counts = to_document(result)["counts"]
    assert counts["images_evaluated"] == EXPECTED_COUNTS["images_evaluated"]
    assert counts["files_seen"] == EXPECTED_COUNTS["files_seen"] + 3
    assert [(p.path, p.reason) for p in result.inventory.unreadable] == [("alpha/broken.jpg", "broken symbolic link")]
    assert [p.path for p in result.inventory.skipped] == ["beta/pipe.jpg", "gamma/loop"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_permission_denied_is_unreadable(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "corpus")
    (root / "alpha" / "unique_0.jpg").chmod(0)
    (root / "beta").chmod(0)
    try:
        result = evaluate(root, PARAMS, workers=1)
    finally:
        (root / "beta").chmod(0o755)
    reasons = {p.path: p.reason for p in result.inventory.unreadable}
    assert reasons["alpha/unique_0.jpg"] == "Permission denied"
    assert reasons["beta"].startswith("cannot list directory")


@pytest.mark.parametrize("workers", [1, 2])
def test_damaged_tar_keeps_what_was_read(tmp_path: Path, workers: int) -> None:
    archive = write_tar(tmp_path / "corpus.tar")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    result = evaluate(archive, PARAMS, workers=workers)
    [problem] = result.inventory.unreadable
    assert problem.path == "corpus.tar" and problem.reason.startswith("archive damaged")
    assert 0 < len(result.inventory.images) < EXPECTED_COUNTS["images_evaluated"]


def test_tar_links_are_skipped(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "corpus.tar")
    with tarfile.open(archive, "a") as tar:
        link = tarfile.TarInfo("alpha/link.jpg")
        link.type, link.linkname = tarfile.SYMTYPE, "dup_x.jpg"
        tar.addfile(link)
    result = evaluate(archive, PARAMS)
    assert [(p.path, p.reason) for p in result.inventory.skipped] == [
        ("alpha/link.jpg", "tar member is a link, not followed")
    ]
    assert len(result.inventory.images) == EXPECTED_COUNTS["images_evaluated"]
