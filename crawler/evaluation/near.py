"""Pairs of 64-bit perceptual hashes within a Hamming distance, without a Python loop per pair.

A distance threshold does not group images the way an equal key does, so
the pairs must be found. Bucketing on chunks of the hash (pigeonhole) only
guarantees a shared chunk when the distance is below the number of chunks,
so this compares all pairs instead, with numpy: a block of rows XOR every
later hash, then a bit count, which keeps the 200 million pairs of 20,000
hashes out of Python. Images without a hash take no part.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_BLOCK_ROWS = 256  # rows per block: 256 x 20,000 uint64 is 40 MB


def near_pairs(hashes: Sequence[str | None], max_distance: int) -> list[tuple[int, int, int]]:
    """``(i, j, distance)`` with i < j for every two hex hashes at most ``max_distance`` bits apart."""
    indices = [index for index, value in enumerate(hashes) if value is not None]
    values = np.array([int(hashes[index], 16) for index in indices], dtype=np.uint64)  # type: ignore[arg-type]
    found: list[tuple[int, int, int]] = []
    for start in range(0, len(values), _BLOCK_ROWS):
        rows = values[start : start + _BLOCK_ROWS]
        distances = np.bitwise_count(rows[:, None] ^ values[None, start:])
        row, column = np.nonzero(distances <= max_distance)
        later = column > row  # each pair once, never an image with itself
        for r, c in zip(row[later].tolist(), column[later].tolist()):
            found.append((indices[start + r], indices[start + c], int(distances[r, c])))
    return found
