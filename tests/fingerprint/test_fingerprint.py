from __future__ import annotations

import hashlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.fingerprint.compute import fingerprint, sample_offset


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


def test_every_corpus_file_fingerprints_without_error(corpus: Path) -> None:
    for path in sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != "README.md"):
        data = path.read_bytes()
        for cut in (0, 1, 17, 512, 4096, 10240):
            fingerprint(data[:cut])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    fp = fingerprint(data)
    assert len(fp.sha256_first_10240_bytes) == 64


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([b"\xff\xd8\xff\xe1", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"\x00\x00\x00\x18ftypheic"]), st.binary(max_size=2048))
def test_arbitrary_bytes_behind_real_magic_never_raise(magic: bytes, rest: bytes) -> None:
    fingerprint(magic + rest)
