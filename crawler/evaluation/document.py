"""Evaluation -> the result document: its shape, typed, and how it is built. No printing.

The document is what ``--report`` writes as JSON and the single source of
every rendering (:mod:`crawler.evaluation.render`): the terminal, the
Markdown report and the JSON file all draw from it, so they cannot disagree.
Its parts are TypedDicts, so ``mypy --strict`` rejects a key that is not in
the document, in the builder here and in the renderers alike; at run time
they are plain dicts, ready for ``json.dumps``. The key order written here is
the order in the JSON file.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, TypedDict

from crawler.evaluation.hashing import (
    DEFAULT_PHASH_THRESHOLD,
    PHASH_THRESHOLDS,
    FileResult,
)
from crawler.evaluation.metrics import MethodMetrics, pairs
from crawler.evaluation.web_document import WebResult, web_document

if TYPE_CHECKING:  # these pull in NumPy, which `crawler crawl` does not need at start-up
    from crawler.evaluation.harness import Evaluation
    from crawler.evaluation.robustness import KindScore, VariantEvaluation


class Machine(TypedDict):
    cpu_count: int | None
    platform: str
    python: str


class SettingsUsed(TypedDict):
    prefix_bytes: int
    sample_bytes: int
    min_image_bytes: int
    content_bytes: int
    max_bytes_per_image: int
    max_rounds: int
    sweep_bytes: list[int]
    content_sweep_bytes: list[int]
    workers: int


class Counts(TypedDict):
    files_seen: int
    images_evaluated: int
    excluded_under_min_size: int
    non_image: int
    empty: int
    unreadable: int
    skipped: int


class SizedPath(TypedDict):
    path: str
    size: int


class ProblemPath(TypedDict):
    path: str
    reason: str


class Files(TypedDict):
    """The files not evaluated, by class (names relative to the source)."""

    excluded_under_min_size: list[SizedPath]
    non_image: list[str]
    empty: list[str]
    unreadable: list[ProblemPath]
    skipped: list[ProblemPath]


class GroundTruth(TypedDict):
    method: str
    duplicate_groups: int
    duplicate_pairs: int
    all_pairs: int
    non_duplicate_pairs: int
    groups: list[list[str]]


class Sweep(TypedDict):
    lengths: list[int]
    shortest_without_false_positive: int | None


class Spread(TypedDict):
    """Bytes per image over the images evaluated; None when there are none."""

    median: float | None
    p90: int | None
    mean: float | None
    max: int | None


class BytesPerImage(TypedDict):
    fixed_prefix: Spread
    adaptive: Spread


class ContentSweep(TypedDict):
    lengths: list[int]
    bytes: dict[str, Spread]  # K (as text: a JSON key) -> bytes fetched per image
    with_follow_ups: dict[str, int]  # K -> images that needed a follow-up round trip


class Perceptual(TypedDict):
    thresholds: list[int]
    default_threshold: int
    images_with_hash: int


class KindResult(TypedDict):
    pairs: int
    not_applicable: dict[str, int]  # reason -> originals
    matched: dict[str, int]  # method -> (original, variant) pairs matched
    recall: dict[str, float | None]
    content_coverage: int
    perceptual_coverage: int


class Variants(TypedDict):
    originals: int
    variants: int
    elapsed_seconds: float
    methods: list[str]
    kinds: dict[str, KindResult]
    union: dict[str, MethodMetrics]
    web: WebResult | None


class Document(TypedDict):
    corpus: str
    source: Literal["directory", "tar"]
    generated_at: str
    machine: Machine
    settings: SettingsUsed
    elapsed_seconds: float
    counts: Counts
    formats: dict[str, int]
    files: Files
    ground_truth: GroundTruth
    main_methods: list[str]
    methods: dict[str, MethodMetrics]
    sweep: Sweep
    bytes_per_image: BytesPerImage
    content_sweep: ContentSweep
    perceptual: Perceptual
    variants: Variants | None


def to_document(evaluation: Evaluation) -> Document:
    """The JSON result: inventory, settings, timing, ground truth and every method."""
    inv, params = evaluation.inventory, evaluation.params
    images = len(inv.images)
    true_pairs = sum(pairs(len(group)) for group in evaluation.true_groups)
    return {
        "corpus": inv.source,
        "source": inv.kind,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "settings": {
            "prefix_bytes": params.prefix_bytes,
            "sample_bytes": params.sample_bytes,
            "min_image_bytes": params.min_image_bytes,
            "content_bytes": params.content_bytes,
            "max_bytes_per_image": params.policy.cap_bytes,
            "max_rounds": params.policy.max_rounds,
            "sweep_bytes": sorted(params.sweep),
            "content_sweep_bytes": params.content_lengths,
            "workers": inv.workers,
        },
        "elapsed_seconds": round(inv.elapsed_seconds, 3),
        "counts": {
            "files_seen": inv.files_seen,
            "images_evaluated": images,
            "excluded_under_min_size": len(inv.small),
            "non_image": len(inv.non_image),
            "empty": len(inv.empty),
            "unreadable": len(inv.unreadable),
            "skipped": len(inv.skipped),
        },
        "formats": dict(sorted(Counter(image.format or "unknown" for image in inv.images).items())),
        "files": {
            "excluded_under_min_size": [{"path": r.path, "size": r.size} for r in inv.small],
            "non_image": inv.non_image,
            "empty": inv.empty,
            "unreadable": [{"path": p.path, "reason": p.reason} for p in inv.unreadable],
            "skipped": [{"path": p.path, "reason": p.reason} for p in inv.skipped],
        },
        "ground_truth": {
            "method": "sha256 of the whole file",
            "duplicate_groups": len(evaluation.true_groups),
            "duplicate_pairs": true_pairs,
            "all_pairs": pairs(images),
            "non_duplicate_pairs": pairs(images) - true_pairs,
            "groups": evaluation.true_groups,
        },
        "main_methods": params.main_methods(),
        "methods": dict(evaluation.methods),
        "sweep": {
            "lengths": sorted(params.sweep),
            "shortest_without_false_positive": evaluation.shortest_clean_prefix,
        },
        "bytes_per_image": {
            "fixed_prefix": _spread([min(image.size, params.prefix_bytes) for image in inv.images]),
            "adaptive": _spread([image.fetched[params.content_bytes] for image in inv.images]),
        },
        "content_sweep": {
            "lengths": params.content_lengths,
            "bytes": {str(k): _spread([image.fetched[k] for image in inv.images]) for k in params.content_lengths},
            "with_follow_ups": {str(k): _followed_up(inv.images, k) for k in params.content_lengths},
        },
        "perceptual": {
            "thresholds": list(PHASH_THRESHOLDS),
            "default_threshold": DEFAULT_PHASH_THRESHOLD,
            "images_with_hash": sum(image.thumbnail_hash is not None for image in inv.images),
        },
        "variants": _variants(evaluation.variants) if evaluation.variants is not None else None,
    }


def _spread(values: list[int]) -> Spread:
    if not values:
        return {"median": None, "p90": None, "mean": None, "max": None}
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],  # nearest rank
        "mean": round(statistics.fmean(ordered), 1),
        "max": ordered[-1],
    }


def _followed_up(images: Sequence[FileResult], k: int) -> int:
    """Images for which the adaptive loop with this K needed a follow-up round trip."""
    return sum(image.rounds[k] > 0 for image in images)


def _variants(scored: VariantEvaluation) -> Variants:
    return {
        "originals": scored.originals,
        "variants": scored.variants,
        "elapsed_seconds": round(scored.elapsed_seconds, 3),
        "methods": list(scored.union),
        "kinds": {kind.kind: _kind(kind) for kind in scored.kinds},
        "union": dict(scored.union),
        "web": web_document(scored.web) if scored.web is not None else None,
    }


def _kind(kind: KindScore) -> KindResult:
    return {
        "pairs": kind.pairs,
        "not_applicable": kind.skipped,
        "matched": kind.matched,
        "recall": {method: kind.recall(method) for method in kind.matched},
        "content_coverage": kind.content_coverage,
        "perceptual_coverage": kind.perceptual_coverage,
    }
