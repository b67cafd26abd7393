"""Near-duplicate pHashes without comparing all pairs.

:func:`near_pairs` finds every pair of distinct 64-bit hashes at most
``threshold`` bits apart by multi-index hashing: the hash is cut into ``m``
pieces, and two hashes within ``threshold`` bits agree within
``threshold // m`` bits on at least one piece (pigeonhole). For each piece,
the hashes are bucketed by its value (a counting sort), and each hash probes
the buckets of every value within that radius of its own; only those
candidates are compared in full. Everything is vectorised with numpy: one
probe is a handful of array operations over all hashes.

:func:`within` is the plain scan, one query against all hashes (xor and
popcount over a numpy array), for a single image or a known set.
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
_MAX_PIECE_BITS = 24  # a bucket table of 2^24 counts stays small in memory


def as_unsigned(values: npt.ArrayLike) -> U64:
    """Signed 64-bit hashes (as the databases store them) -> unsigned, the same bits."""
    return np.asarray(values, dtype=np.int64).view(np.uint64)


def within(values: U64, query: int, threshold: int) -> tuple[I64, I64]:
    """Positions of ``values`` at most ``threshold`` bits from ``query``, and their distances."""
    distances = np.bitwise_count(values ^ np.uint64(query & ((1 << 64) - 1))).astype(np.int64)
    positions = np.nonzero(distances <= threshold)[0].astype(np.int64)
    return positions, distances[positions]


def plan(count: int, threshold: int) -> tuple[list[tuple[int, int]], int]:
    """The pieces (low bit, width) and per-piece radius with the fewest expected comparisons."""
    best: tuple[float, int] | None = None
    for pieces in range(1, 65):
        width = -(-64 // pieces)
        if width > _MAX_PIECE_BITS:
            continue
        radius = threshold // pieces
        probes = sum(comb(width, k) for k in range(radius + 1))
        cost = pieces * probes * (1 + count / 2**width)
        if best is None or cost < best[0]:
            best = (cost, pieces)
    assert best is not None
    pieces = best[1]
    bounds = [round(64 * k / pieces) for k in range(pieces + 1)]
    return [(low, high - low) for low, high in zip(bounds, bounds[1:])], threshold // pieces


def near_pairs(values: U64, threshold: int) -> tuple[I64, I64, I64]:
    """Pairs (i < j) of positions in ``values`` (distinct hashes) within ``threshold`` bits, and distances."""
    empty = np.zeros(0, dtype=np.int64)
    if len(values) < 2 or threshold < 1:
        return empty, empty, empty
    pieces, radius = plan(len(values), threshold)
    found: list[I64] = []
    for low, width in pieces:
        found += _piece_pairs(values, low, width, radius, threshold)
    if not found:
        return empty, empty, empty
    codes = np.unique(np.concatenate(found))
    first, second = codes // len(values), codes % len(values)
    distances = np.bitwise_count(values[first] ^ values[second]).astype(np.int64)
    return first, second, distances


def _piece_pairs(values: U64, low: int, width: int, radius: int, threshold: int) -> list[I64]:
    """Pair codes (i * n + j) found through one piece.

    The hashes are sorted by the piece first: a probe's keys (each key xor a
    mask) then run nearly in order, and the bucket lookups read memory in
    sequence rather than at random.
    """
    count = len(values)
    keys = ((values >> np.uint64(low)) & np.uint64((1 << width) - 1)).astype(np.int32)
    order = np.argsort(keys, kind="stable")
    keys, ordered = keys[order], values[order]
    sizes = np.bincount(keys, minlength=1 << width).astype(np.int32)
    starts = (np.cumsum(sizes) - sizes).astype(np.int64)
    found: list[I64] = []
    for mask in _masks(width, radius):
        probe = keys ^ np.int32(mask)
        hits = sizes[probe]
        left = np.flatnonzero(hits)
        if not len(left):
            continue
        repeats = hits[left].astype(np.int64)
        ends = np.cumsum(repeats)
        right = np.repeat(starts[probe[left]] - (ends - repeats), repeats) + np.arange(ends[-1])
        left = np.repeat(left, repeats)
        close = (left < right) & (np.bitwise_count(ordered[left] ^ ordered[right]) <= threshold)
        first, second = order[left[close]], order[right[close]]
        found.append(np.minimum(first, second) * count + np.maximum(first, second))
    return found


def _masks(width: int, radius: int) -> list[int]:
    return [sum(1 << bit for bit in bits) for r in range(radius + 1) for bits in combinations(range(width), r)]
