"""Byte ranges: merge, subtract, and plan the Range requests of the next round.

A range is a half-open ``(start, end)`` pair of file offsets, like a Python
slice: ``(0, 10240)`` is the first 10,240 bytes, which HTTP spells
``bytes=0-10239``. Lists of ranges are kept sorted and disjoint.

Planning trades bytes for round trips: through Tor each round trip costs
seconds while a few extra kilobytes cost little, so a need is widened to at
least ``min_request`` bytes (the next header is often just past the one we
asked for), and ranges closer than ``merge_gap`` are fetched as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Range = tuple[int, int]

MIN_REQUEST = 4096
MERGE_GAP = 16384


def normalize(ranges: Iterable[Range]) -> list[Range]:
    """Sorted, disjoint ranges; empty ones dropped, touching ones joined."""
    merged: list[Range] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(ranges: Iterable[Range], known: Iterable[Range]) -> list[Range]:
    """The parts of ``ranges`` not covered by ``known``."""
    holes = normalize(known)
    result: list[Range] = []
    for start, end in normalize(ranges):
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                result.append((start, hole_start))
            start = max(start, hole_end)
            if start >= end:
                break
        if start < end:
            result.append((start, end))
    return result


def span(ranges: Iterable[Range]) -> int:
    """Total bytes in the ranges (counted once where they overlap)."""
    return sum(end - start for start, end in normalize(ranges))


def clamp(ranges: Iterable[Range], total: int | None) -> list[Range]:
    """The ranges cut at the end of the file, when its size is known."""
    if total is None:
        return normalize(ranges)
    return normalize((start, min(end, total)) for start, end in ranges if start < total)


def plan_ranges(
    needs: Sequence[Range],
    already_known: Sequence[Range],
    cap_remaining: int,
    min_request: int = MIN_REQUEST,
    *,
    merge_gap: int = MERGE_GAP,
    total: int | None = None,
) -> list[Range]:
    """The ranges to fetch next: few, at most ``cap_remaining`` bytes in all.

    Missing parts of ``needs`` are widened to ``min_request`` bytes, cut at the
    end of the file, joined when less than ``merge_gap`` bytes apart (or from
    the end of the file), then taken in file order until the cap is spent.
    """
    missing = subtract(clamp(needs, total), already_known)
    widened = [(start, max(end, start + min_request)) for start, end in missing]
    planned = _join_close(subtract(clamp(widened, total), already_known), merge_gap, total)
    return _within_cap(planned, cap_remaining)


def _join_close(ranges: list[Range], gap: int, total: int | None) -> list[Range]:
    joined: list[Range] = []
    for start, end in ranges:
        if joined and start - joined[-1][1] < gap:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    if joined and total is not None and total - joined[-1][1] < gap:
        joined[-1] = (joined[-1][0], total)
    return joined


def _within_cap(ranges: list[Range], cap: int) -> list[Range]:
    taken: list[Range] = []
    for start, end in ranges:
        if cap <= 0:
            break
        taken.append((start, min(end, start + cap)))
        cap -= taken[-1][1] - start
    return taken
