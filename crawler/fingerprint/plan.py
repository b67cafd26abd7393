"""The adaptive fetch loop, without the fetching (sans I/O).

After the prefix, :class:`Rounds` yields, round after round, the ranges to
fetch next; the caller fetches them (one Range request each, concurrently),
adds the bytes to the buffer, and asks for the next round. It ends when the
layout needs nothing more, the byte cap is spent or the rounds run out::

    buffer = SparseBuffer.of(prefix, total)
    plan = Rounds(buffer, policy)
    for ranges in plan:
        for start, end in ranges:        # half-open: Range: bytes=start-(end-1)
            buffer.add(start, fetch(start, end))
    layout = plan.layout                 # of the final buffer: format, EXIF, content hash

The loop is a generator so that async callers drive it the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.fingerprint.analyze import analyze
from crawler.fingerprint.layout import CONTENT_BYTES, Layout
from crawler.fingerprint.ranges import MERGE_GAP, MIN_REQUEST, Range, plan_ranges
from crawler.fingerprint.sparse import SparseBuffer
from crawler.settings import FINGERPRINT_DEFAULTS

if TYPE_CHECKING:  # settings import this package; the annotation alone needs no import at run time
    from crawler.settings import FingerprintSettings


@dataclass(frozen=True)
class RangePolicy:
    """Limits of the follow-up fetches of one image."""

    cap_bytes: int = FINGERPRINT_DEFAULTS.max_bytes_per_image  # all bytes fetched for one image, prefix included
    max_rounds: int = FINGERPRINT_DEFAULTS.max_rounds  # follow-up round trips after the prefix
    min_request: int = MIN_REQUEST
    merge_gap: int = MERGE_GAP
    content_bytes: int = CONTENT_BYTES
    whole_file_bytes: int = FINGERPRINT_DEFAULTS.whole_file_bytes  # see crawler.fingerprint.band

    @classmethod
    def from_settings(cls, settings: FingerprintSettings) -> RangePolicy:
        """The policy the ``fingerprint`` settings ask for: byte cap, rounds, K and the whole-file limit."""
        return cls(
            cap_bytes=settings.max_bytes_per_image,
            max_rounds=settings.max_rounds,
            content_bytes=settings.content_bytes,
            whole_file_bytes=settings.whole_file_bytes,
        )


class Rounds:
    """Iterate to get the ranges of each round; the caller adds their bytes to ``buffer`` in between.

    When the iteration ends, ``layout`` is the analysis of the final buffer,
    ready for the fingerprint (each analysis is an exifread pass: not redone).
    """

    def __init__(self, buffer: SparseBuffer, policy: RangePolicy) -> None:
        self.buffer = buffer
        self.policy = policy
        self.layout = analyze(buffer, policy.content_bytes, policy.whole_file_bytes)

    def __iter__(self) -> Iterator[list[Range]]:
        buffer, policy = self.buffer, self.policy
        spent = buffer.bytes_known
        for round_number in range(policy.max_rounds):
            if round_number:
                self.layout = analyze(buffer, policy.content_bytes, policy.whole_file_bytes)
            planned = plan_ranges(
                self.layout.needs,
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
        if policy.max_rounds:  # the last round's bytes came in after the last analysis
            self.layout = analyze(buffer, policy.content_bytes, policy.whole_file_bytes)


@dataclass(frozen=True)
class Fetched:
    """What the adaptive loop fetched of one file, over HTTP (the crawler) or from memory (the harness)."""

    buffer: SparseBuffer  # the prefix and every range fetched after it
    layout: Layout  # the analysis of the final buffer
    prefix_bytes: int  # bytes read for the prefix
    rounds: int = 0  # follow-up round trips after the prefix
    requests: int = 0  # follow-up Range requests
    follow_up_bytes: int = 0  # bytes read by the follow-ups
    error: str | None = None  # why the follow-ups stopped early; the rest holds what was fetched

    @property
    def bytes_fetched(self) -> int:
        return self.prefix_bytes + self.follow_up_bytes


def replay(data: bytes, policy: RangePolicy, prefix_bytes: int = FINGERPRINT_DEFAULTS.prefix_bytes) -> Fetched:
    """The adaptive loop over a file held in memory: what the crawler would fetch of it.

    For the eval harness and tests; a local file is just another byte source.
    """
    buffer = SparseBuffer.of(data[:prefix_bytes], len(data))
    prefix = buffer.bytes_known
    rounds = requests = fetched = 0
    plan = Rounds(buffer, policy)
    for planned in plan:
        rounds += 1
        requests += len(planned)
        for start, end in planned:
            buffer.add(start, data[start:end])
            fetched += len(data[start:end])
    return Fetched(buffer, plan.layout, prefix, rounds, requests, fetched)
