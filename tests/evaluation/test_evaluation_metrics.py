"""Pair counting by grouping or from pair lists, checked against brute force and by hand."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.evaluation.metrics import (
    MethodMetrics,
    component_labels,
    measure,
    measure_pairs,
    shortest_clean_prefix,
    upper_bound_95,
)
from crawler.evaluation.near import near_pairs
from crawler.fingerprint.perceptual import distance


def brute_force(truth: list[str], keys: list[str]) -> tuple[int, int, int]:
    """(true pairs, predicted pairs, true positives) by looking at every pair."""
    pairs = list(itertools.combinations(range(len(truth)), 2))
    true = sum(truth[i] == truth[j] for i, j in pairs)
    predicted = sum(keys[i] == keys[j] for i, j in pairs)
    hits = sum(truth[i] == truth[j] and keys[i] == keys[j] for i, j in pairs)
    return true, predicted, hits


@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("wxyz")), max_size=40))
def test_grouped_counts_match_brute_force(rows: list[tuple[str, str]]) -> None:
    truth, keys = [t for t, _ in rows], [k for _, k in rows]
    paths = [f"f{i}" for i in range(len(rows))]
    m = measure(paths, truth, keys)
    true, predicted, hits = brute_force(truth, keys)
    assert (m["true_pairs"], m["predicted_pairs"], m["true_positives"]) == (true, predicted, hits)
    assert m["false_positives"] == predicted - hits and m["false_negatives"] == true - hits
    assert m["non_duplicate_pairs"] == len(rows) * (len(rows) - 1) // 2 - true


def test_hand_counted_example() -> None:
    paths = ["a1", "a2", "b", "c", "d"]
    truth = ["A", "A", "B", "C", "D"]
    keys = ["k", "k", "k", "m", "n"]  # one key for a1, a2 (duplicates) and b (different)
    m = measure(paths, truth, keys)
    assert (m["true_pairs"], m["predicted_pairs"], m["true_positives"], m["false_positives"], m["false_negatives"]) == (1, 3, 1, 2, 0)
    assert m["predicted_groups"] == 1
    assert m["precision"] == pytest.approx(1 / 3) and m["recall"] == 1.0
    assert m["false_positive_rate"] == pytest.approx(2 / 9)
    assert m["false_positive_rate_upper_95"] is None
    assert m["false_positive_groups"] == [["a1", "a2", "b"]]


def test_a_key_that_splits_duplicates_gives_false_negatives() -> None:
    m = measure(["a1", "a2", "a3"], ["A", "A", "A"], ["k", "k", "j"])
    assert (m["true_pairs"], m["true_positives"], m["false_negatives"], m["false_positives"]) == (3, 1, 2, 0)
    assert m["false_positive_rate"] is None  # no non-duplicate pair at all
    assert m["false_positive_rate_upper_95"] is None


def test_undefined_ratios_are_none() -> None:
    m = measure(["a", "b", "c"], ["A", "B", "C"], ["x", "y", "z"])
    assert m["precision"] is None and m["recall"] is None
    assert m["false_positive_rate"] == 0.0
    assert m["false_positive_rate_upper_95"] == pytest.approx(upper_bound_95(3))


def test_upper_bound_is_about_three_over_n() -> None:
    assert upper_bound_95(1) == pytest.approx(0.95)
    assert upper_bound_95(211_756_000) == pytest.approx(3 / 211_756_000, rel=0.002)
    assert upper_bound_95(0) is None


def _fp(count: int) -> MethodMetrics:
    return measure(["a", "b"] if count else ["a"], ["A", "B"] if count else ["A"], ["k", "k"] if count else ["k"])


def test_shortest_clean_prefix() -> None:
    assert shortest_clean_prefix({256: _fp(1), 1024: _fp(0), 4096: _fp(0)}) == 1024
    assert shortest_clean_prefix({256: _fp(0), 1024: _fp(1), 4096: _fp(0)}) == 4096
    assert shortest_clean_prefix({256: _fp(1), 1024: _fp(1)}) is None


@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(["x", "y", None])), max_size=30))
def test_images_without_a_key_pair_with_nothing(rows: list[tuple[str, str | None]]) -> None:
    truth, keys = [t for t, _ in rows], [k for _, k in rows]
    m = measure([f"f{i}" for i in range(len(rows))], truth, keys)
    pairs = list(itertools.combinations(range(len(rows)), 2))
    predicted = [(i, j) for i, j in pairs if keys[i] is not None and keys[i] == keys[j]]
    assert m["predicted_pairs"] == len(predicted)
    assert m["true_positives"] == sum(truth[i] == truth[j] for i, j in predicted)
    assert m["keyed"] == sum(key is not None for key in keys)


@given(st.lists(st.one_of(st.none(), st.integers(0, 2**64 - 1)), max_size=40), st.integers(0, 64))
def test_near_pairs_match_brute_force(values: list[int | None], threshold: int) -> None:
    hashes = [None if v is None else f"{v:016x}" for v in values]
    expected = [
        (i, j, distance(a, b))
        for (i, a), (j, b) in itertools.combinations(enumerate(hashes), 2)
        if a is not None and b is not None and distance(a, b) <= threshold
    ]
    assert sorted(near_pairs(hashes, threshold)) == expected


def test_near_pairs_across_blocks() -> None:
    hashes = [f"{i:016x}" for i in range(600)]  # more rows than one block
    found = near_pairs(hashes, 0)
    assert found == []
    assert (0, 599, distance(hashes[0], hashes[599])) in near_pairs(hashes, 64)
    assert len(near_pairs(hashes, 64)) == 600 * 599 // 2


def test_measure_pairs_by_hand() -> None:
    paths = ["a1", "a2", "b", "c"]
    truth = ["A", "A", "B", "C"]
    m = measure_pairs(paths, truth, [(0, 1), (1, 2), (2, 3)], keyed=4)
    assert (m["predicted_pairs"], m["true_positives"], m["false_positives"], m["false_negatives"]) == (3, 1, 2, 0)
    assert m["predicted_groups"] == 1  # the pairs chain all four images together
    assert m["false_positive_groups"] == [["a2", "b"], ["b", "c"]]
    assert m["false_positive_rate"] == pytest.approx(2 / 5)
    none = measure_pairs(paths, truth, [], keyed=0)
    assert (none["predicted_pairs"], none["false_negatives"], none["precision"]) == (0, 1, None)


def test_component_labels() -> None:
    labels = component_labels(6, [(0, 1), (2, 3), (1, 3), (4, 4)])
    assert labels[0] == labels[1] == labels[2] == labels[3]
    assert len({labels[0], labels[4], labels[5]}) == 3
