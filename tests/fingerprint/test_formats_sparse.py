"""SparseBuffer, its file-like reader, range arithmetic and range planning."""

from __future__ import annotations

import io
from pathlib import Path

import exifread
import pytest
from PIL import Image

from crawler.fingerprint.ranges import normalize, plan_ranges, span, subtract
from crawler.fingerprint.sparse import NeedBytes, SparseBuffer


def test_pieces_merge_and_report_what_is_missing() -> None:
    buffer = SparseBuffer(total=100)
    buffer.add(10, b"a" * 10)
    buffer.add(30, b"b" * 10)
    buffer.add(18, b"c" * 12)  # bridges the two pieces
    assert buffer.known == [(10, 40)]
    assert buffer.bytes_known == 30
    assert buffer.get(15, 10) == b"aaacccccccc"[:10]
    with pytest.raises(NeedBytes) as raised:
        buffer.get(0, 50)
    assert raised.value.ranges == ((0, 10), (40, 50))


def test_get_clamps_to_a_known_total_only() -> None:
    buffer = SparseBuffer.of(b"0123456789", total=10)
    assert buffer.get(8, 100) == b"89"
    assert buffer.get(10, 5) == b""
    unknown = SparseBuffer.of(b"0123456789")
    with pytest.raises(NeedBytes) as raised:
        unknown.get(8, 4)
    assert raised.value.ranges == ((10, 12),)


def test_prefix_is_the_contiguous_run_from_zero() -> None:
    buffer = SparseBuffer(total=50)
    assert buffer.prefix() == b""
    buffer.add(20, b"x")
    assert buffer.prefix() == b""
    buffer.add(0, b"abc")
    assert buffer.prefix() == b"abc"


def test_strict_reader_raises_and_lenient_reader_reads_like_a_cut_file() -> None:
    buffer = SparseBuffer(total=20)
    buffer.add(0, b"0123456789")
    strict = buffer.reader(strict=True)
    strict.seek(8)
    with pytest.raises(NeedBytes):
        strict.read(4)
    lenient = buffer.reader(strict=False)
    lenient.seek(8)
    assert lenient.read(4) == b"89"
    assert lenient.tell() == 10
    assert lenient.read(4) == b""
    assert lenient.misses == [(10, 14)]


def test_exifread_and_pillow_let_need_bytes_through(corpus: Path) -> None:
    data = (corpus / "jpeg" / "FujiFilm_FinePixS1Pro_1.jpg").read_bytes()
    buffer = SparseBuffer.of(data[:3000], len(data))
    with pytest.raises(NeedBytes):
        exifread.process_file(buffer.reader(strict=True), details=False)  # type: ignore[arg-type]
    with pytest.raises(NeedBytes):
        Image.open(buffer.reader(strict=True)).load()  # type: ignore[arg-type]


def test_lenient_reader_over_a_prefix_reads_exif_like_bytesio(corpus: Path) -> None:
    data = (corpus / "jpeg" / "Pentax_ist_D.jpg").read_bytes()[:10240]
    whole = exifread.process_file(io.BytesIO(data), details=False)
    sparse = exifread.process_file(SparseBuffer.of(data).reader(strict=False), details=False)  # type: ignore[arg-type]
    assert {k: str(v) for k, v in whole.items()} == {k: str(v) for k, v in sparse.items()}


def test_range_arithmetic() -> None:
    assert normalize([(5, 9), (0, 3), (3, 4), (8, 12), (7, 7)]) == [(0, 4), (5, 12)]
    assert subtract([(0, 100)], [(10, 20), (50, 60)]) == [(0, 10), (20, 50), (60, 100)]
    assert subtract([(10, 20)], [(0, 100)]) == []
    assert span([(0, 10), (5, 15)]) == 15


def test_plan_widens_merges_and_skips_what_is_known() -> None:
    known = [(0, 10240)]
    planned = plan_ranges([(5000, 6000), (20000, 20004), (30000, 30100)], known, 1 << 20)
    assert planned == [(20000, 34096)]  # each widened to 4,096 bytes, then joined over a 5,904-byte gap
    far = plan_ranges([(20000, 20004), (60000, 60010)], known, 1 << 20)
    assert far == [(20000, 24096), (60000, 64096)]


def test_plan_respects_the_cap_and_the_end_of_the_file() -> None:
    assert plan_ranges([(20000, 90000)], [(0, 10240)], 5000) == [(20000, 25000)]
    assert plan_ranges([(20000, 20004)], [(0, 10240)], 0) == []
    assert plan_ranges([(20000, 20004)], [(0, 10240)], 1 << 20, total=21000) == [(20000, 21000)]
    assert plan_ranges([(20000, 20004)], [(0, 10240)], 1 << 20, total=30000) == [(20000, 30000)]  # tail joined
    assert plan_ranges([(40000, 40004)], [(0, 10240)], 1 << 20, total=30000) == []
