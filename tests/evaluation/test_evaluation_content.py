"""The content-hash K sweep and the thumbnail pHash, on planted pictures and real camera JPEGs."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from crawler.evaluation.harness import VariantOptions, evaluate
from crawler.evaluation.hashing import HashParams
from crawler.fingerprint.plan import replay
from tests.support.variant_corpus import encode

# The eight smallest camera JPEGs of at least 20,480 bytes: the first four carry an EXIF thumbnail.
WITH_THUMBNAIL = ("Sony_Cybershot_3", "FujiFilm_FinePixS1Pro_1", "FujiFilm_FinePixS1Pro_5", "Olympus_C860L")
WITHOUT_THUMBNAIL = ("Photoshop_4", "Sony_Cybershot_7", "FujiFilm_DS-7_3", "Ricoh_DC-3Z_normal_res")


def white_top(seed: int, rows: int) -> bytes:
    """A 640x480 baseline JPEG (standard tables) of noise under ``rows`` white rows."""
    rng = random.Random(seed)
    image = Image.frombytes("L", (640, 480), rng.randbytes(640 * 480)).convert("RGB")
    if rows:
        ImageDraw.Draw(image).rectangle((0, 0, 639, rows - 1), fill="white")
    return encode(image, "JPEG", quality=90)


def test_k_sweep_counts_pictures_that_share_their_top_rows(tmp_path: Path) -> None:
    # 128 white rows encode to about 1,280 bytes of scan: two pictures that differ only below them
    # have the same first 1,024 scan bytes, not the same first 4,096.
    (tmp_path / "a.jpg").write_bytes(white_top(1, 128))
    (tmp_path / "b.jpg").write_bytes(white_top(2, 128))
    (tmp_path / "c.jpg").write_bytes(white_top(3, 0))
    result = evaluate(tmp_path, HashParams(content_sweep=(256, 1024, 16384)), workers=1)
    false_positives = {k: result.methods[f"content_sha256_{k}"]["false_positives"] for k in (256, 1024, 4096, 16384)}
    assert false_positives == {256: 1, 1024: 1, 4096: 0, 16384: 0}
    crawler_k = result.methods["content_sha256"]  # the settings' K, 4,096, is always in the sweep
    assert crawler_k == result.methods["content_sha256_4096"]
    for image in result.inventory.images:
        data = (tmp_path / image.path).read_bytes()
        # The prefix, and what the web perceptual hash's band needs (past a plain white top): no K up
        # to 4,096 costs more. The first 16 KB of scan lie past the prefix.
        crawler = replay(data, HashParams().policy)
        assert image.fetched[256] == image.fetched[1024] == image.fetched[4096] == crawler.bytes_fetched
        assert image.rounds[256] == image.rounds[1024] == image.rounds[4096] == crawler.rounds
        assert image.fetched[16384] > 16384


@pytest.fixture(scope="module")
def shared_jpegs(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    root = tmp_path_factory.mktemp("camera")
    for name in WITH_THUMBNAIL + WITHOUT_THUMBNAIL:  # all in tests/samples too
        shutil.copy(corpus / "jpeg" / f"{name}.jpg", root / f"{name}.jpg")
    return root


def test_phash_at_the_default_threshold_matches_resaved_camera_jpegs(shared_jpegs: Path) -> None:
    result = evaluate(shared_jpegs, HashParams(), workers=2, variants=VariantOptions())
    with_hash = sorted(image.path for image in result.inventory.images if image.thumbnail_hash)
    assert with_hash == sorted(f"{name}.jpg" for name in WITH_THUMBNAIL)
    assert result.variants is not None
    kinds = {kind.kind: kind for kind in result.variants.kinds}
    for kind in ("resaved", "resized"):
        assert (kinds[kind].pairs, kinds[kind].perceptual_coverage) == (8, 4)
        assert kinds[kind].matched["perceptual_hash<=8"] == 4
        assert kinds[kind].matched["content_sha256"] == 0
    for kind in ("stripped", "comment_added"):
        assert kinds[kind].recall("content_sha256") == 1.0
        assert kinds[kind].matched["prefix_sha256_10240"] == 0
    assert kinds["stripped"].perceptual_coverage == 0  # stripping drops the thumbnail
    assert all(m["false_positives"] == 0 for m in result.variants.union.values())
