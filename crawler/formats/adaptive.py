"""The adaptive fetch loop, without the fetching (sans I/O).

After the prefix, :func:`rounds` yields, round after round, the ranges to
fetch next; the caller fetches them (one Range request each, concurrently),
adds the bytes to the buffer, and asks for the next round. It ends when the
layout needs nothing more, the byte cap is spent or the rounds run out::

    buffer = SparseBuffer.of(prefix, total)
    for ranges in rounds(buffer, policy):
        for start, end in ranges:        # half-open: Range: bytes=start-(end-1)
            buffer.add(start, fetch(start, end))
    layout, exif = analyze(buffer, policy.content_bytes), read_exif_sparse(buffer)

The loop is a generator so that async callers drive it the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from crawler.formats import analyze
from crawler.formats.layout import CONTENT_BYTES
from crawler.formats.ranges import MERGE_GAP, MIN_REQUEST, Range, plan_ranges
from crawler.formats.sparse import SparseBuffer


@dataclass(frozen=True)
class RangePolicy:
    """Limits of the follow-up fetches of one image."""

    cap_bytes: int = 262_144  # all bytes fetched for one image, prefix included
    max_rounds: int = 4  # follow-up round trips after the prefix
    min_request: int = MIN_REQUEST
    merge_gap: int = MERGE_GAP
    content_bytes: int = CONTENT_BYTES


def rounds(buffer: SparseBuffer, policy: RangePolicy) -> Iterator[list[Range]]:
    """Yield the ranges of each round; the caller adds their bytes to ``buffer`` in between."""
    spent = buffer.bytes_known
    for _ in range(policy.max_rounds):
        layout = analyze(buffer, policy.content_bytes)
        planned = plan_ranges(
            layout.needs,
            buffer.known,
            policy.cap_bytes - spent,
            policy.min_request,
            merge_gap=policy.merge_gap,
            total=buffer.total,
        )
        if not planned:
            return
        spent += sum(end - start for start, end in planned)
        yield planned


@dataclass(frozen=True)
class Fetched:
    """What the adaptive loop fetched of one file."""

    buffer: SparseBuffer
    rounds: int  # follow-up round trips after the prefix
    bytes_fetched: int  # prefix included


def replay(data: bytes, policy: RangePolicy, prefix_bytes: int = 10240) -> Fetched:
    """The adaptive loop over a file held in memory: what the crawler would fetch of it.

    For the eval harness and tests; a local file is just another byte source.
    """
    buffer = SparseBuffer.of(data[:prefix_bytes], len(data))
    count, fetched = 0, buffer.bytes_known
    for planned in rounds(buffer, policy):
        count += 1
        for start, end in planned:
            buffer.add(start, data[start:end])
            fetched += len(data[start:end])
    return Fetched(buffer, count, fetched)
