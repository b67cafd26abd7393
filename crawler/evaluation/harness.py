"""The harness as a library call: source in, every method scored out. Never prints.

``evaluate`` hashes the source once (see :mod:`collect`) and scores each
method against the full-file SHA-256 (see :mod:`metrics`): the crawler's
prefix SHA-256, the same keyed with the total size, its sample, its
``content_sha256`` and its EXIF-thumbnail pHash within T bits, then the
SHA-256 prefixes and the content-hash K of the sweeps.

With ``variants``, it then writes variant sets of the images (see
:mod:`variants`) to a folder, hashes them the same way and scores how well
each method matches a picture to its variants (see :mod:`robustness`). One
process pool serves every phase.
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crawler.evaluation.collect import Inventory, Progress, collect, worker_pool
from crawler.evaluation.hashing import (
    PHASH_THRESHOLDS,
    FileResult,
    HashParams,
    perceptual_method,
    sweep_method,
)
from crawler.evaluation.metrics import (
    MethodMetrics,
    groups_of,
    measure,
    measure_pairs,
    shortest_clean_prefix,
)
from crawler.evaluation.near import near_pairs
from crawler.evaluation.robustness import VariantEvaluation, score_variants
from crawler.evaluation.variants import Original, generate

_SAMPLE_SEED = 0


@dataclass(frozen=True)
class VariantOptions:
    """Which originals get variants (all, or a seeded sample of ``sample``), and where they go."""

    sample: int | None = None
    directory: Path | None = None  # kept there; by default a temporary folder, removed after


@dataclass(frozen=True)
class Evaluation:
    """An inventory of the source, the metrics of every method on its images, and the variant sets."""

    inventory: Inventory
    params: HashParams
    true_groups: list[list[str]]
    methods: dict[str, MethodMetrics]
    variants: VariantEvaluation | None = None

    @property
    def sweep(self) -> dict[int, MethodMetrics]:
        """Prefix length -> metrics of the SHA-256 of that many first bytes."""
        return {length: self.methods[sweep_method(length)] for length in sorted(self.params.sweep)}

    @property
    def shortest_clean_prefix(self) -> int | None:
        """Shortest swept prefix with no false positive on this data, if any."""
        return shortest_clean_prefix(self.sweep)


def evaluate(
    source: Path,
    params: HashParams,
    workers: int = 1,
    progress: Progress | None = None,
    variants: VariantOptions | None = None,
) -> Evaluation:
    """Hash every file of ``source`` once and score every method; then, if asked, the variant sets of its images."""
    with worker_pool(workers) as pool:
        evaluation = score(collect(source, params, workers, progress, pool), params)
        if variants is None or not evaluation.inventory.images:
            return evaluation
        scored = evaluate_variants(source, evaluation.inventory.images, params, variants, pool, progress)
        return dataclasses.replace(evaluation, variants=scored)


def score(inventory: Inventory, params: HashParams) -> Evaluation:
    """Metrics of every method on the images of ``inventory``."""
    images = inventory.images
    paths = [image.path for image in images]
    truth = [image.sha256 for image in images]
    methods = {name: measure(paths, truth, [image.keys.get(name) for image in images]) for name in params.methods()}
    hashes = [image.thumbnail_hash for image in images]
    near = near_pairs(hashes, max(PHASH_THRESHOLDS))
    keyed = sum(value is not None for value in hashes)
    for threshold in PHASH_THRESHOLDS:
        within = [(i, j) for i, j, d in near if d <= threshold]
        methods[perceptual_method(threshold)] = measure_pairs(paths, truth, within, keyed)
    return Evaluation(inventory, params, groups_of(paths, truth), methods)


def evaluate_variants(
    source: Path,
    images: list[FileResult],
    params: HashParams,
    options: VariantOptions,
    pool: Executor | None,
    progress: Progress | None = None,
) -> VariantEvaluation:
    """Write variants of (a sample of) ``images`` of ``source``, hash them, score them."""
    started = time.perf_counter()
    notify = progress or (lambda done, total: None)
    chosen = choose(images, options.sample)
    originals = [Original(index, image.path, image.format or "") for index, image in enumerate(chosen)]
    with _folder(options.directory) as out:
        outcomes = generate(source, originals, out, pool, notify)
        every_size = dataclasses.replace(params, min_image_bytes=0)  # a resized variant may be small
        hashed = collect(out, every_size, progress=notify, pool=pool).images
    scored = score_variants(chosen, hashed, outcomes, params.content_bytes)
    return dataclasses.replace(scored, elapsed_seconds=time.perf_counter() - started)


def choose(images: list[FileResult], sample: int | None) -> list[FileResult]:
    """All images, or a seeded random sample of ``sample`` of them, in path order."""
    if sample is None or sample >= len(images):
        return list(images)
    return sorted(random.Random(_SAMPLE_SEED).sample(images, sample), key=lambda image: image.path)


@contextmanager
def _folder(directory: Path | None) -> Iterator[Path]:
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        yield directory
        return
    with tempfile.TemporaryDirectory(prefix="crawler-eval-variants-") as temporary:
        yield Path(temporary)
