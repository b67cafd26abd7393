"""Pair counting by grouping, checked against brute force and by hand."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.evaluation.metrics import MethodMetrics, measure, shortest_clean_prefix, upper_bound_95


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
    m = measure("m", paths, truth, keys)
    true, predicted, hits = brute_force(truth, keys)
    assert (m.true_pairs, m.predicted_pairs, m.true_positives) == (true, predicted, hits)
    assert m.false_positives == predicted - hits and m.false_negatives == true - hits
    assert m.non_duplicate_pairs == len(rows) * (len(rows) - 1) // 2 - true


def test_hand_counted_example() -> None:
    paths = ["a1", "a2", "b", "c", "d"]
    truth = ["A", "A", "B", "C", "D"]
    keys = ["k", "k", "k", "m", "n"]  # one key for a1, a2 (duplicates) and b (different)
    m = measure("m", paths, truth, keys)
    assert (m.true_pairs, m.predicted_pairs, m.true_positives, m.false_positives, m.false_negatives) == (1, 3, 1, 2, 0)
    assert m.predicted_groups == 1
    assert m.precision == pytest.approx(1 / 3) and m.recall == 1.0
    assert m.false_positive_rate == pytest.approx(2 / 9)
    assert m.false_positive_rate_upper_95 is None
    assert m.false_positive_groups == [["a1", "a2", "b"]]


def test_a_key_that_splits_duplicates_gives_false_negatives() -> None:
    m = measure("m", ["a1", "a2", "a3"], ["A", "A", "A"], ["k", "k", "j"])
    assert (m.true_pairs, m.true_positives, m.false_negatives, m.false_positives) == (3, 1, 2, 0)
    assert m.false_positive_rate is None  # no non-duplicate pair at all
    assert m.false_positive_rate_upper_95 is None


def test_undefined_ratios_are_none() -> None:
    m = measure("m", ["a", "b", "c"], ["A", "B", "C"], ["x", "y", "z"])
    assert m.precision is None and m.recall is None
    assert m.false_positive_rate == 0.0
    assert m.false_positive_rate_upper_95 == pytest.approx(upper_bound_95(3))


def test_upper_bound_is_about_three_over_n() -> None:
    assert upper_bound_95(1) == pytest.approx(0.95)
    assert upper_bound_95(211_756_000) == pytest.approx(3 / 211_756_000, rel=0.002)
    assert upper_bound_95(0) is None


def _fp(count: int) -> MethodMetrics:
    return measure("m", ["a", "b"] if count else ["a"], ["A", "B"] if count else ["A"], ["k", "k"] if count else ["k"])


def test_shortest_clean_prefix() -> None:
    assert shortest_clean_prefix({256: _fp(1), 1024: _fp(0), 4096: _fp(0)}) == 1024
    assert shortest_clean_prefix({256: _fp(0), 1024: _fp(1), 4096: _fp(0)}) == 4096
    assert shortest_clean_prefix({256: _fp(1), 1024: _fp(1)}) is None
