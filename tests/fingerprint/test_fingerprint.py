"""The fingerprint fields of a record, from an image's first bytes: exact on known data, valid on any."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.fingerprint.compute import Fingerprint, fingerprint, sample_offset
from crawler.fingerprint.sniff import sniff_format
from crawler.models import ImageRecord
from tests.support.corpora import images

FORMATS_BY_FOLDER = {"jpeg": {"jpeg"}, "heic": {"heic", "heif"}, "tiff": {"tiff"}, "png": {"png"}, "webp": {"webp"}}


def assert_valid(fp: Fingerprint, data: bytes) -> None:
    """Every field is of its type and range, agrees with ``data``, and the fields make a valid record."""
    assert fp.sha256_first_10240_bytes == hashlib.sha256(data[:10240]).hexdigest()
    sample = bytes.fromhex(fp.random_128_bytes_sample_start)
    assert sample == data[fp.sample_offset : fp.sample_offset + 128] and len(sample) == min(len(data), 128)
    assert fp.format == sniff_format(data[:16])
    assert all(value is None or value > 0 for value in (fp.width, fp.height))
    assert fp.image_data_offset is None or fp.image_data_offset > 0
    assert fp.content_sha256 is None or re.fullmatch(r"[0-9a-f]{64}", fp.content_sha256)
    assert (fp.perceptual_hash is None) == (fp.perceptual_hash_source is None)
    assert fp.perceptual_hash is None or re.fullmatch(r"[0-9a-f]{16}", fp.perceptual_hash)
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in fp.exif.items())
    ImageRecord.model_validate({"url": "http://a.test/i", "status": "ok", **vars(fp)})


def test_hash_covers_exactly_the_first_10240_bytes() -> None:
    data = bytes(range(256)) * 100
    fp = fingerprint(data)
    assert fp.sha256_first_10240_bytes == hashlib.sha256(data[:10240]).hexdigest()
    assert fingerprint(data[:10240]).sha256_first_10240_bytes == fp.sha256_first_10240_bytes
    assert fingerprint(data[:10241] + b"x").sha256_first_10240_bytes == fp.sha256_first_10240_bytes


def test_sample_is_taken_at_its_offset_and_reproducible() -> None:
    data = bytes(range(256)) * 100
    fp = fingerprint(data)
    assert 0 <= fp.sample_offset <= 10240 - 128
    assert bytes.fromhex(fp.random_128_bytes_sample_start) == data[fp.sample_offset : fp.sample_offset + 128]
    assert fingerprint(data) == fp


def test_sample_offset_fits_short_data() -> None:
    assert sample_offset("f" * 64, 100) == 0
    assert sample_offset("f" * 64, 200) <= 72


def test_real_jpeg_format_dimensions_and_exif(corpus: Path) -> None:
    data = (corpus / "jpeg" / "Canon_PowerShot_S40_2.jpg").read_bytes()[:10240]
    fp = fingerprint(data)
    assert fp.format == "jpeg"
    assert fp.exif["Image Make"] == "Canon"
    assert "JPEGThumbnail" not in fp.exif


def test_every_corpus_file_cut_anywhere_gives_valid_fields() -> None:
    for path in images():
        data = path.read_bytes()
        for cut in (0, 1, 17, 512, 4096, 10240):
            assert_valid(fingerprint(data[:cut]), data[:cut])
        assert fingerprint(data[:10240]).format in FORMATS_BY_FOLDER[path.parent.name], path.name


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_give_valid_fields(data: bytes) -> None:
    assert_valid(fingerprint(data), data)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([b"\xff\xd8\xff\xe1", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"\x00\x00\x00\x18ftypheic"]), st.binary(max_size=2048))
def test_arbitrary_bytes_behind_real_magic_give_valid_fields(magic: bytes, rest: bytes) -> None:
    assert_valid(fingerprint(magic + rest), magic + rest)
