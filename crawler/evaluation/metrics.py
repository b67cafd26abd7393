"""Keys per image + ground truth -> pairwise confusion counts. Pure.

Two images are true duplicates when their full-file SHA-256 are equal; a
method predicts a duplicate pair when it gives two images the same key.
Everything is counted by grouping, never by comparing pairs (20,580 images
make 211 million pairs)::

    true pairs      = sum of C(g, 2) over full-hash groups
    predicted pairs = sum of C(g, 2) over method-key groups
    true positives  = sum of C(n, 2) over (method key, full hash) cells
    false positives = predicted - true positives
    false negatives = true - true positives
    non-duplicate pairs = C(N, 2) - true pairs

Precision is None (undefined) when a method predicts no pair, recall is None
when there is no true pair, and the false-positive rate is None when there is
no non-duplicate pair. When no false positive is seen among n non-duplicate
pairs, the exact one-sided 95% upper bound on the rate is 1 - 0.05^(1/n),
about 3/n (the rule of three). Pairs that share an image are not independent
trials, so read the bound as an order of magnitude, not a guarantee.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MethodMetrics:
    """How one method's predicted duplicate pairs compare with the truth."""

    method: str
    images: int
    true_pairs: int
    predicted_groups: int
    predicted_pairs: int
    true_positives: int
    false_positives: int
    false_negatives: int
    non_duplicate_pairs: int
    precision: float | None
    recall: float | None
    false_positive_rate: float | None
    false_positive_rate_upper_95: float | None
    false_positive_groups: list[list[str]]


def pairs(size: int) -> int:
    """C(size, 2): the pairs within a group of ``size`` images."""
    return size * (size - 1) // 2


def groups_of(paths: Sequence[str], keys: Sequence[str]) -> list[list[str]]:
    """Paths sharing a key, for every key held by two or more paths, sorted."""
    by_key: defaultdict[str, list[str]] = defaultdict(list)
    for path, key in zip(paths, keys, strict=True):
        by_key[key].append(path)
    return sorted(sorted(group) for group in by_key.values() if len(group) > 1)


def upper_bound_95(trials: int) -> float | None:
    """One-sided 95% upper bound on a rate when 0 events were seen in ``trials``."""
    if trials <= 0:
        return None
    return -math.expm1(math.log(0.05) / trials)


def measure(method: str, paths: Sequence[str], truth: Sequence[str], keys: Sequence[str]) -> MethodMetrics:
    """Confusion counts of ``keys`` against ``truth`` (full hashes), per image."""
    true_pairs = _pair_count(truth)
    predicted_pairs = _pair_count(keys)
    true_positives = _pair_count(zip(keys, truth, strict=True))
    false_positives = predicted_pairs - true_positives
    non_duplicate = pairs(len(paths)) - true_pairs
    return MethodMetrics(
        method=method,
        images=len(paths),
        true_pairs=true_pairs,
        predicted_groups=sum(1 for n in Counter(keys).values() if n > 1),
        predicted_pairs=predicted_pairs,
        true_positives=true_positives,
        false_positives=false_positives,
        false_negatives=true_pairs - true_positives,
        non_duplicate_pairs=non_duplicate,
        precision=_ratio(true_positives, predicted_pairs),
        recall=_ratio(true_positives, true_pairs),
        false_positive_rate=_ratio(false_positives, non_duplicate),
        false_positive_rate_upper_95=upper_bound_95(non_duplicate) if false_positives == 0 else None,
        false_positive_groups=_mixed_groups(paths, truth, keys) if false_positives else [],
    )


def shortest_clean_prefix(sweep: dict[int, MethodMetrics]) -> int | None:
    """Shortest prefix length with no false positive (and none at any longer length)."""
    clean = None
    for length in sorted(sweep, reverse=True):
        if sweep[length].false_positives:
            break
        clean = length
    return clean


def _pair_count(keys: Iterable[object]) -> int:
    return sum(pairs(n) for n in Counter(keys).values())


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _mixed_groups(paths: Sequence[str], truth: Sequence[str], keys: Sequence[str]) -> list[list[str]]:
    """Predicted groups holding more than one distinct file: the false positives."""
    members: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for path, full, key in zip(paths, truth, keys, strict=True):
        members[key].append((path, full))
    mixed = (group for group in members.values() if len({full for _, full in group}) > 1)
    return sorted(sorted(path for path, _ in group) for group in mixed)
