"""The adaptive fetch loop, replayed in memory over every file of the real corpus.

Each file starts as its first 10,240 bytes; the loop analyzes, "fetches" the
planned ranges from the real file, and repeats. What it recovers is compared
with what exifread and Pillow read from the whole file.
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from itertools import combinations
from pathlib import Path

import pytest
from PIL import Image

from crawler.fingerprint.analyze import analyze
from crawler.fingerprint.exif import read_exif, read_exif_sparse
from crawler.fingerprint.plan import Fetched, RangePolicy, Rounds, replay
from crawler.fingerprint.sparse import SparseBuffer
from tests.support.corpora import images

FILES = images()
EXIF_FILES = [p for p in FILES if p.parent.name in ("jpeg", "tiff", "heic")]
GENEROUS = RangePolicy(cap_bytes=1 << 26, max_rounds=16)  # enough for any band of the corpus too
# (width, height) from the primary item's ispe box, read by hand with a hex dump.
HEIC_SIZES = {"IMG_2927.HEIC": (3024, 4032), "exif-at-eof.heic": (3024, 4032), "cheers_1440x960.heic": (1440, 960)}
# Byte-identical image items; only the Exif and XMP items differ (one holds its EXIF at the end).
# IMG_2927.HEIC is in the full corpus only.
SAME_PICTURE = {frozenset({"IMG_2927.HEIC", "exif-at-eof.heic"})}


def _replay(path: Path, policy: RangePolicy) -> Fetched:
    return replay(path.read_bytes(), policy)


def _pillow_size(data: bytes) -> tuple[int, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(data)) as image:
            return image.size


@pytest.mark.parametrize("path", EXIF_FILES, ids=lambda p: p.name)
def test_exif_equals_exifread_over_the_whole_file(path: Path) -> None:
    fetched = _replay(path, RangePolicy())
    assert read_exif_sparse(fetched.buffer) == read_exif(path.read_bytes())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_loop_stays_within_its_cap_and_rounds(path: Path) -> None:
    policy = RangePolicy()
    fetched = _replay(path, policy)
    assert fetched.bytes_fetched <= policy.cap_bytes
    assert fetched.rounds <= policy.max_rounds
    assert fetched.buffer.bytes_known <= fetched.bytes_fetched


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_size_equals_pillow_and_the_walk_completes(path: Path) -> None:
    data = path.read_bytes()
    layout = analyze(_replay(path, GENEROUS).buffer)
    assert layout.complete
    expected = HEIC_SIZES[path.name] if path.parent.name == "heic" else _pillow_size(data)
    assert (layout.width, layout.height) == expected
    assert layout.image_data_offset is not None and layout.content_sha256 is not None


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_adaptive_layout_equals_the_whole_file_layout(path: Path) -> None:
    data = path.read_bytes()
    whole = analyze(SparseBuffer.of(data, len(data)))
    assert whole.complete
    if whole.format == "webp" and len(data) > GENEROUS.whole_file_bytes:
        whole = dataclasses.replace(whole, band=None)  # a WebP's band decodes from the whole file only
    assert analyze(_replay(path, GENEROUS).buffer) == whole


def test_content_hash_tells_corpus_pictures_apart() -> None:
    hashes = {p.name: analyze(SparseBuffer.of(p.read_bytes(), p.stat().st_size)).content_sha256 for p in FILES}
    for (name_a, hash_a), (name_b, hash_b) in combinations(hashes.items(), 2):
        same = frozenset({name_a, name_b}) in SAME_PICTURE
        assert (hash_a == hash_b) == same, (name_a, name_b)


def test_exif_at_the_end_of_a_heic_is_fetched(corpus: Path) -> None:
    data = (corpus / "heic" / "exif-at-eof.heic").read_bytes()
    assert read_exif(data[:10240]) == {}
    fetched = replay(data, RangePolicy())
    assert fetched.rounds == 1
    assert read_exif_sparse(fetched.buffer) == read_exif(data) != {}


def test_progressive_and_image_data_offset_of_a_jpeg(corpus: Path) -> None:
    data = (corpus / "jpeg" / "Issue_609.jpg").read_bytes()
    layout = analyze(SparseBuffer.of(data, len(data)))
    assert layout.progressive is True
    assert layout.image_data_offset is not None
    sos = data.rfind(b"\xff\xda", 0, layout.image_data_offset)
    assert layout.image_data_offset == sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")


def test_image_data_offset_of_png_tiff_and_webp(corpus: Path) -> None:
    png = (corpus / "png" / "Issue_204_dotnet.png").read_bytes()
    assert analyze(SparseBuffer.of(png, len(png))).image_data_offset == png.index(b"IDAT") + 4
    tiff = (corpus / "tiff" / "Issue_16.tif").read_bytes()
    assert analyze(SparseBuffer.of(tiff, len(tiff))).image_data_offset == 47096  # StripOffsets[0]
    webp = (corpus / "webp" / "Photo_1.webp").read_bytes()
    assert analyze(SparseBuffer.of(webp, len(webp))).image_data_offset == webp.index(b"VP8 ") + 8


@pytest.mark.parametrize("path", EXIF_FILES, ids=lambda p: p.name)
def test_the_reported_exif_ranges_alone_hold_what_exifread_reads(path: Path) -> None:
    data = path.read_bytes()
    layout = analyze(SparseBuffer.of(data, len(data)))
    buffer = SparseBuffer.of(data[:4096], len(data))
    for start, end in layout.exif_ranges:
        buffer.add(start, data[start:end])
    assert read_exif_sparse(buffer) == read_exif(data)


@pytest.mark.parametrize("name", ["jpeg/Pentax_ist_D.jpg", "tiff/Issue_16.tif", "heic/exif-at-eof.heic"])
def test_the_loop_works_when_the_server_does_not_say_the_size(corpus: Path, name: str) -> None:
    data = (corpus / name).read_bytes()
    buffer = SparseBuffer.of(data[:10240])  # Content-Range: bytes 0-10239/*
    for planned in Rounds(buffer, RangePolicy()):
        for start, end in planned:
            buffer.add(start, data[start:end])  # a range past the end comes back short
    assert read_exif_sparse(buffer) == read_exif(data)
