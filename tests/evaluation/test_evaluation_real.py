"""The harness on real camera images: the full corpus beside the checkout, or the samples in tests/samples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crawler.evaluation.harness import Evaluation, evaluate
from crawler.evaluation.hashing import HashParams
from tests.support.corpora import full_corpus, images

MIN_SIZE = HashParams().min_image_bytes


@pytest.fixture(scope="module")
def whole(corpus: Path) -> Evaluation:
    return evaluate(corpus, HashParams(), workers=2)


def test_every_file_is_accounted_for(corpus: Path, whole: Evaluation) -> None:
    files = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file())
    assert files
    inventory = whole.inventory
    accounted = [r.path for r in inventory.images + inventory.small] + inventory.non_image + inventory.empty
    assert sorted(accounted) == files
    assert inventory.unreadable == [] and "README.md" in inventory.non_image
    assert {r.format for r in inventory.images} >= {"jpeg", "png", "tiff", "webp", "heic"}
    assert all(r.size >= MIN_SIZE for r in inventory.images)
    assert all(r.size < MIN_SIZE for r in inventory.small)


def test_no_prefix_false_positive_on_distinct_camera_images(whole: Evaluation) -> None:
    full_corpus()  # the rule-of-three bound means something over 71 images' pairs, not over a few samples
    assert whole.true_groups == []
    for method in ("prefix_sha256_10240", "prefix_sha256_10240+size"):
        m = whole.methods[method]
        assert (m["predicted_pairs"], m["false_positives"]) == (0, 0)
        assert m["false_positive_rate_upper_95"] == pytest.approx(3 / m["non_duplicate_pairs"], rel=0.01)


def test_planted_copies_of_real_jpegs_are_found(tmp_path: Path) -> None:
    jpegs = [p for p in images("jpeg") if p.stat().st_size >= MIN_SIZE]
    for source in jpegs:
        shutil.copy(source, tmp_path / f"breed_a__{source.name}")
    (tmp_path / "breed_b").mkdir()
    for source in jpegs[:5]:  # the same bytes under another folder and name
        shutil.copy(source, tmp_path / "breed_b" / f"renamed_{source.name}")
    result = evaluate(tmp_path, HashParams(), workers=2)
    assert len(result.inventory.images) == len(jpegs) + 5
    assert len(result.true_groups) == 5
    for method in ("prefix_sha256_10240", "prefix_sha256_10240+size"):
        m = result.methods[method]
        assert (m["true_positives"], m["false_positives"], m["false_negatives"]) == (5, 0, 0)
    assert result.methods["sample_128"]["true_positives"] == 5
