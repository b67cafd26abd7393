"""The harness as a library call: source in, every method scored out. Never prints.

``evaluate`` hashes the source once (see :mod:`collect`) and scores each
method against the full-file SHA-256 (see :mod:`metrics`). The methods are
the crawler's prefix SHA-256, the same keyed with the total size, the
crawler's sample, and SHA-256 prefixes of the sweep lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawler.evaluation.collect import Inventory, Progress, collect
from crawler.evaluation.hashing import HashParams, sweep_method
from crawler.evaluation.metrics import MethodMetrics, groups_of, measure, shortest_clean_prefix


@dataclass(frozen=True)
class Evaluation:
    """An inventory of the source and the metrics of every method on its images."""

    inventory: Inventory
    params: HashParams
    true_groups: list[list[str]]
    methods: dict[str, MethodMetrics]

    @property
    def sweep(self) -> dict[int, MethodMetrics]:
        """Prefix length -> metrics of the SHA-256 of that many first bytes."""
        return {length: self.methods[sweep_method(length)] for length in sorted(self.params.sweep)}

    @property
    def shortest_clean_prefix(self) -> int | None:
        """Shortest swept prefix with no false positive on this data, if any."""
        return shortest_clean_prefix(self.sweep)


def evaluate(
    source: Path, params: HashParams, workers: int = 1, progress: Progress | None = None
) -> Evaluation:
    """Hash every file of ``source`` once and score every method."""
    return score(collect(source, params, workers, progress), params)


def score(inventory: Inventory, params: HashParams) -> Evaluation:
    """Metrics of every method on the images of ``inventory``."""
    paths = [image.path for image in inventory.images]
    truth = [image.sha256 for image in inventory.images]
    methods = {
        name: measure(name, paths, truth, [image.keys[name] for image in inventory.images])
        for name in params.methods()
    }
    return Evaluation(inventory, params, groups_of(paths, truth), methods)
