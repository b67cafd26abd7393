"""Variant sets: the edits keep the picture, and each method's recall per kind is exact.

The originals are built in ``tests/variant_corpus.py``; what each method
must match follows from how they are built (see the comments), plus a few
real camera JPEGs from the shared corpus for the thumbnail pHash.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from crawler.evaluation.edits import (
    COMMENT,
    NotApplicable,
    add_comment,
    edit_exif,
    replace_thumbnail,
    strip_metadata,
)
from crawler.evaluation.harness import Evaluation, VariantOptions, evaluate
from crawler.evaluation.hashing import HashParams
from crawler.evaluation.robustness import KindScore
from crawler.fingerprint.plan import RangePolicy, replay
from tests.support import variant_corpus as corpus

PARAMS = HashParams()
PREFIX, PREFIX_SIZE, CONTENT, PHASH = (
    "prefix_sha256_10240", "prefix_sha256_10240+size", "content_sha256", "perceptual_hash<=8",
)
BYTE_EDITS = ("stripped", "exif_edited", "comment_added")
REENCODED = ("resaved", "resized", "resized_new_thumbnail")


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return corpus.files()


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    root = corpus.write(tmp_path_factory.mktemp("originals"))
    return evaluate(root, PARAMS, workers=2, variants=VariantOptions())


def kinds(evaluation: Evaluation) -> dict[str, KindScore]:
    assert evaluation.variants is not None
    return {kind.kind: kind for kind in evaluation.variants.kinds}


@pytest.mark.parametrize("name", ["camera/shot_0.jpg", corpus.LONG_EXIF, "plain/with_metadata.png"])
def test_byte_edits_keep_the_picture(files: dict[str, bytes], name: str) -> None:
    data, image_format = files[name], "png" if name.endswith(".png") else "jpeg"
    stripped, edited, commented = (edit(data, image_format) for edit in (strip_metadata, edit_exif, add_comment))
    assert pixels(stripped) == pixels(edited) == pixels(commented) == pixels(data)
    assert b"TestCam" in data and b"TestCam" not in stripped
    assert len(stripped) < len(data) < len(commented)
    changed = [i for i, (a, b) in enumerate(zip(data, edited, strict=True)) if a != b]
    crc = 4 if image_format == "png" else 0  # a PNG chunk's CRC follows its data
    assert len(changed) == 1 + crc and changed[-1] < 10240  # one byte (and a CRC), inside the prefix
    assert COMMENT in commented


def test_jpeg_edits_in_detail(files: dict[str, bytes]) -> None:
    data = files["camera/shot_1.jpg"]
    stripped = strip_metadata(data, "jpeg")
    assert stripped[:20] == data[:20] and stripped[6:10] == b"JFIF"  # APP0 kept, first
    assert b"\xff\xe1" not in stripped[: stripped.index(b"\xff\xda")]
    assert replay(edit_exif(data, "jpeg"), PARAMS.policy).layout.exif["Image DateTime"] == "3024:05:06 07:08:09"
    with Image.open(io.BytesIO(add_comment(data, "jpeg"))) as image:
        assert image.info["comment"] == COMMENT


def test_replaced_thumbnail_is_the_one_read(files: dict[str, bytes]) -> None:
    thumbnail = corpus.encode(corpus.picture(99, (80, 60)), "JPEG")
    for name in ("camera/shot_2.jpg", corpus.LONG_EXIF):
        swapped = replace_thumbnail(files[name], thumbnail)
        assert replay(swapped, PARAMS.policy).layout.thumbnail == thumbnail
        assert pixels(swapped) == pixels(files[name])


def test_edits_that_do_not_apply_say_why(files: dict[str, bytes]) -> None:
    cases = [
        (strip_metadata, "plain/no_metadata.jpg", "jpeg", "no metadata to strip"),
        (edit_exif, "plain/no_metadata.jpg", "jpeg", "no EXIF"),
        (add_comment, "plain/picture.webp", "webp", "webp: byte-level edits only for JPEG and PNG"),
        (lambda d, f: replace_thumbnail(d, b""), "plain/no_metadata.jpg", "jpeg", "no EXIF"),
    ]
    for edit, name, image_format, reason in cases:
        with pytest.raises(NotApplicable, match=reason):
            edit(files[name], image_format)


def test_pairs_made_per_kind(result: Evaluation) -> None:
    scores = kinds(result)
    assert {kind: k.pairs for kind, k in scores.items()} == corpus.EXPECTED_PAIRS
    assert scores["stripped"].skipped == {
        "no metadata to strip": 1, "webp: byte-level edits only for JPEG and PNG": 1,
    }
    assert scores["resized_new_thumbnail"].skipped == {"EXIF thumbnails are replaced in JPEG only": 2, "no EXIF": 1}
    assert result.variants is not None and result.variants.originals == len(corpus.files())


def test_content_hash_matches_metadata_edits_only(result: Evaluation) -> None:
    scores = kinds(result)
    assert {kind: scores[kind].recall(CONTENT) for kind in BYTE_EDITS} == dict.fromkeys(BYTE_EDITS, 1.0)
    assert {kind: scores[kind].recall(CONTENT) for kind in REENCODED} == dict.fromkeys(REENCODED, 0.0)
    assert all(k.content_coverage == k.pairs for k in scores.values())


def test_prefix_hash_misses_every_change_inside_the_prefix(result: Evaluation) -> None:
    scores = kinds(result)
    assert all(k.matched[PREFIX_SIZE] == 0 for k in scores.values())
    assert all(scores[kind].matched[PREFIX] == 0 for kind in BYTE_EDITS)
    # The long-EXIF file's first 10,240 bytes are all metadata, which a re-save keeps: the prefix
    # matches its re-saved and resized copies (their sizes differ, so +size does not).
    assert {kind: scores[kind].matched[PREFIX] for kind in REENCODED} == {
        "resaved": 1, "resized": 1, "resized_new_thumbnail": 0,
    }


def test_thumbnail_phash_follows_the_thumbnail(result: Evaluation) -> None:
    scores = kinds(result)
    assert {kind: k.perceptual_coverage for kind, k in scores.items()} == corpus.EXPECTED_PHASH_PAIRS
    assert {kind: k.matched[PHASH] for kind, k in scores.items()} == corpus.EXPECTED_PHASH_PAIRS


def test_no_false_positive_among_originals_and_variants(result: Evaluation) -> None:
    assert result.variants is not None
    union = result.variants.union
    assert all(m["false_positives"] == 0 for m in union.values())
    # Same content hash: per camera JPEG, the original, stripped, edited and commented files (C(4,2) = 6)
    # and the resized file with its new-thumbnail twin (1); the PNG's four files (6); the plain JPEG
    # and its commented copy (1); the PNG re-saved and converted for the web, both written by Pillow
    # from the same pixels (1).
    assert union[CONTENT]["predicted_pairs"] == corpus.CAMERA * (6 + 1) + 6 + 1 + 1
    assert union[PREFIX]["predicted_pairs"] == 3  # the long-EXIF original, re-saved and resized


def test_keys_come_from_the_adaptive_replay(result: Evaluation, files: dict[str, bytes]) -> None:
    image = next(r for r in result.inventory.images if r.path == corpus.LONG_EXIF)
    fetched = replay(files[corpus.LONG_EXIF], PARAMS.policy)
    assert image.keys[CONTENT] == fetched.layout.content_sha256 is not None
    assert image.fetched[PARAMS.content_bytes] == fetched.bytes_fetched > 10240
    assert image.rounds[PARAMS.content_bytes] == fetched.rounds == 1
    assert replay(files[corpus.LONG_EXIF], RangePolicy(max_rounds=0)).layout.content_sha256 is None


def test_variants_of_a_tar_archive(tmp_path: Path, result: Evaluation, files: dict[str, bytes]) -> None:
    archive = tmp_path / "originals.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    from_tar = evaluate(archive, PARAMS, workers=2, variants=VariantOptions(directory=tmp_path / "kept"))
    assert kinds(from_tar) == kinds(result)
    assert len([p for p in (tmp_path / "kept").rglob("*") if p.is_file()]) == sum(corpus.EXPECTED_PAIRS.values())
