"""Property tests: analyze() never raises, whatever bytes and pieces it is given."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.fingerprint.analyze import analyze
from crawler.fingerprint.exif import read_exif_sparse
from crawler.fingerprint.layout import Layout
from crawler.fingerprint.plan import RangePolicy, replay
from crawler.fingerprint.ranges import clamp, plan_ranges, span, subtract
from crawler.fingerprint.sparse import SparseBuffer
from tests.support.corpora import images

SAMPLES = [p.read_bytes()[:40000] for p in images()]
MAGIC = [
    b"\xff\xd8\xff\xe1",
    b"\xff\xd8\xff\xdb",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"RIFF\x00\x10\x00\x00WEBPVP8X",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",
    b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00",
    b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00",
]
totals = st.one_of(st.none(), st.integers(0, 1 << 40))
flips = st.lists(st.tuples(st.integers(0, 39999), st.integers(0, 255)), max_size=12)  # (offset, new byte)


def check(layout: Layout, buffer: SparseBuffer) -> None:
    assert all(0 <= start < end for start, end in layout.needs)
    assert not any(buffer.has(start, end - start) for start, end in layout.needs)
    assert layout.width is None or layout.width > 0


def check_exif(buffer: SparseBuffer) -> None:
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in read_exif_sparse(buffer).items())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096), totals)
def test_arbitrary_bytes(data: bytes, total: int | None) -> None:
    buffer = SparseBuffer.of(data, total)
    check(analyze(buffer), buffer)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(MAGIC), st.binary(max_size=2048), totals)
def test_arbitrary_bytes_behind_real_magic(magic: bytes, rest: bytes, total: int | None) -> None:
    buffer = SparseBuffer.of(magic + rest, total)
    check(analyze(buffer), buffer)
    check_exif(buffer)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES),
    flips,
    st.lists(st.tuples(st.integers(0, 39999), st.integers(1, 6000)), min_size=1, max_size=5),
    st.sampled_from(["exact", "unknown", "larger"]),
)
def test_mutated_real_headers_in_random_pieces(
    sample: bytes, flips: list[tuple[int, int]], pieces: list[tuple[int, int]], size: str
) -> None:
    data = bytearray(sample)
    for at, value in flips:
        if at < len(data):
            data[at] = value
    total = {"exact": len(data), "unknown": None, "larger": len(data) + 5000}[size]
    buffer = SparseBuffer(total)
    for start, length in pieces:
        buffer.add(start, bytes(data[start : start + length]))
    check(analyze(buffer), buffer)
    check_exif(buffer)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.integers(0, 40000), flips)
def test_replay_over_truncated_and_mutated_files_stays_in_bounds(
    sample: bytes, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(sample[:cut])
    for at, value in flips:
        if at < len(data):
            data[at] = value
    policy = RangePolicy(cap_bytes=65536, max_rounds=3)
    fetched = replay(bytes(data), policy)
    assert fetched.bytes_fetched <= max(policy.cap_bytes, min(len(data), 10240))
    assert fetched.rounds <= policy.max_rounds


ranges = st.lists(
    st.tuples(st.integers(0, 1 << 20), st.integers(0, 1 << 16)).map(lambda r: (r[0], r[0] + r[1])), max_size=8
)


@settings(max_examples=300, deadline=None)
@given(ranges, ranges, st.integers(-10, 1 << 21), st.one_of(st.none(), st.integers(0, 1 << 21)))
def test_plan_is_sorted_disjoint_capped_and_useful(
    needs: list[tuple[int, int]], known: list[tuple[int, int]], cap: int, total: int | None
) -> None:
    planned = plan_ranges(needs, known, cap, total=total)
    assert all(start < end for start, end in planned)
    assert all(a[1] < b[0] for a, b in zip(planned, planned[1:], strict=False))
    assert span(planned) <= max(cap, 0)
    assert all(total is None or end <= total for _, end in planned)
    assert all(subtract([r], known) for r in planned)  # each range brings a byte not held
    unlimited = plan_ranges(needs, known, 1 << 40, total=total)
    assert subtract(subtract(clamp(needs, total), known), unlimited) == []  # every missing byte is asked for
