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

An image a method gives no key (no content hash, no pHash) pairs with
nothing under it; ``keyed`` counts the images that have one. Methods that
pair by distance rather than by equal keys (the pHash within T bits) are
scored from their list of pairs by :func:`measure_pairs`, with the same
definitions.

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
from collections.abc import Callable, Iterable, Sequence
from typing import TypedDict


class MethodMetrics(TypedDict):
    """How one method's predicted duplicate pairs compare with the truth.

    A plain dict, so that it is also one method's entry in the JSON result
    (:mod:`crawler.evaluation.document`) as it is; the key order here is the
    order in the JSON file.
    """

    images: int
    keyed: int  # images the method gives a key (all, for the byte hashes)
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


def measure(paths: Sequence[str], truth: Sequence[str], keys: Sequence[str | None]) -> MethodMetrics:
    """Confusion counts of ``keys`` against ``truth`` (full hashes), per image; None pairs with nothing."""
    keyed = [(key, full) for key, full in zip(keys, truth, strict=True) if key is not None]
    return _metrics(
        truth,
        keyed=len(keyed),
        predicted_groups=sum(1 for n in Counter(key for key, _ in keyed).values() if n > 1),
        predicted_pairs=_pair_count(key for key, _ in keyed),
        true_positives=_pair_count(keyed),
        false_positive_groups=lambda: _mixed_groups(paths, truth, keys),
    )


def measure_pairs(
    paths: Sequence[str], truth: Sequence[str], predicted: Sequence[tuple[int, int]], keyed: int
) -> MethodMetrics:
    """Confusion counts of a method given as its predicted pairs of image indices (each once)."""
    members = sorted({index for pair in predicted for index in pair})
    labels = component_labels(len(paths), predicted)
    wrong = [(i, j) for i, j in predicted if truth[i] != truth[j]]
    return _metrics(
        truth,
        keyed=keyed,
        predicted_groups=len({labels[index] for index in members}),
        predicted_pairs=len(predicted),
        true_positives=len(predicted) - len(wrong),
        false_positive_groups=lambda: sorted(sorted((paths[i], paths[j])) for i, j in wrong),
    )


def component_labels(count: int, links: Iterable[tuple[int, int]]) -> list[int]:
    """For each of ``count`` items, a label shared by exactly the items that ``links`` connect."""
    parent = list(range(count))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for first, second in links:
        parent[root(first)] = root(second)
    return [root(index) for index in range(count)]


def _metrics(
    truth: Sequence[str],
    *,
    keyed: int,
    predicted_groups: int,
    predicted_pairs: int,
    true_positives: int,
    false_positive_groups: Callable[[], list[list[str]]],
) -> MethodMetrics:
    true_pairs = _pair_count(truth)
    false_positives = predicted_pairs - true_positives
    non_duplicate = pairs(len(truth)) - true_pairs
    return {
        "images": len(truth),
        "keyed": keyed,
        "true_pairs": true_pairs,
        "predicted_groups": predicted_groups,
        "predicted_pairs": predicted_pairs,
        "true_positives": true_positives,
        "false_positives": false_positives,
        "false_negatives": true_pairs - true_positives,
        "non_duplicate_pairs": non_duplicate,
        "precision": _ratio(true_positives, predicted_pairs),
        "recall": _ratio(true_positives, true_pairs),
        "false_positive_rate": _ratio(false_positives, non_duplicate),
        "false_positive_rate_upper_95": upper_bound_95(non_duplicate) if false_positives == 0 else None,
        "false_positive_groups": false_positive_groups() if false_positives else [],
    }


def shortest_clean_prefix(sweep: dict[int, MethodMetrics]) -> int | None:
    """Shortest prefix length with no false positive (and none at any longer length)."""
    clean = None
    for length in sorted(sweep, reverse=True):
        if sweep[length]["false_positives"]:
            break
        clean = length
    return clean


def _pair_count(keys: Iterable[object]) -> int:
    return sum(pairs(n) for n in Counter(keys).values())


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _mixed_groups(paths: Sequence[str], truth: Sequence[str], keys: Sequence[str | None]) -> list[list[str]]:
    """Predicted groups holding more than one distinct file: the false positives."""
    members: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for path, full, key in zip(paths, truth, keys, strict=True):
        if key is not None:
            members[key].append((path, full))
    mixed = (group for group in members.values() if len({full for _, full in group}) > 1)
    return sorted(sorted(path for path, _ in group) for group in mixed)
