"""Rows tied by evidence -> groups, each with the weakest link it needs. Pure.

Edges come from equal keys (level 1: prefix hash and size; level 2: content
hash) and from pHashes within the threshold (level 3). Groups are the
connected components of all edges. Inside a group, the components of the
level-1 edges alone are its *files* (byte-identical copies) and those of
levels 1-2 its *pictures*; a group's level is the weakest evidence needed to
hold it together: 1 when it is one file, 2 when it is one picture, else 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from crawler.match.evidence import Level
from crawler.match.near import I64, as_unsigned, near_pairs

Edges = tuple[I64, I64]


@dataclass(frozen=True)
class Skeleton:
    """One group: its level, its row ids in order, and each row's file and picture number (1-based)."""

    level: Level
    ids: list[int]
    files: dict[int, int]
    pictures: dict[int, int]


def key_edges(ids: Sequence[int], keys: Sequence[object]) -> Edges:
    """Edges joining consecutive rows with equal keys (rows sorted by key; None never joins)."""
    first: list[int] = []
    second: list[int] = []
    for index in range(1, len(ids)):
        if keys[index] is not None and keys[index] == keys[index - 1]:
            first.append(ids[index - 1])
            second.append(ids[index])
    return np.array(first, dtype=np.int64), np.array(second, dtype=np.int64)


def phash_edges(ids: npt.ArrayLike, hashes: npt.ArrayLike, threshold: int) -> Edges:
    """Edges between rows with equal pHashes and between pHashes within ``threshold`` bits."""
    row_ids = np.asarray(ids, dtype=np.int64)
    values = as_unsigned(hashes)
    distinct, first_row, inverse = np.unique(values, return_index=True, return_inverse=True)
    by_value = np.argsort(inverse, kind="stable")
    same = inverse[by_value][1:] == inverse[by_value][:-1]
    equal = (row_ids[by_value][:-1][same], row_ids[by_value][1:][same])
    near_first, near_second, _ = near_pairs(distinct, threshold)
    near = (row_ids[first_row[near_first]], row_ids[first_row[near_second]])
    return np.concatenate([equal[0], near[0]]), np.concatenate([equal[1], near[1]])


def group(identical: Edges, same_picture: Edges, similar: Edges) -> list[Skeleton]:
    """Groups of rows joined by any edge; each with its level, files and pictures."""
    nodes = np.unique(np.concatenate([*identical, *same_picture, *similar]))
    if not len(nodes):
        return []
    files = _components(nodes, [identical])
    pictures = _components(nodes, [identical, same_picture])
    groups = _components(nodes, [identical, same_picture, similar])
    order = np.lexsort((nodes, groups))
    skeletons: list[Skeleton] = []
    for members in np.split(order, np.flatnonzero(np.diff(groups[order])) + 1):
        ids = [int(nodes[m]) for m in members]
        file_of = _numbered(ids, files[members])
        picture_of = _numbered(ids, pictures[members])
        level = Level.IDENTICAL if len(set(file_of.values())) == 1 else (
            Level.SAME_PICTURE if len(set(picture_of.values())) == 1 else Level.SIMILAR)
        skeletons.append(Skeleton(level, ids, file_of, picture_of))
    return skeletons


def _components(nodes: I64, edge_sets: list[Edges]) -> I64:
    first = np.concatenate([edges[0] for edges in edge_sets])
    second = np.concatenate([edges[1] for edges in edge_sets])
    rows, cols = np.searchsorted(nodes, first), np.searchsorted(nodes, second)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(len(nodes), len(nodes)))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def _numbered(ids: list[int], labels: I64) -> dict[int, int]:
    """Each id's component, renumbered 1, 2, ... in order of first appearance."""
    numbers: dict[int, int] = {}
    return {row: numbers.setdefault(int(label), len(numbers) + 1) for row, label in zip(ids, labels)}
