"""Evaluation -> JSON document. No printing.

The JSON document is the result file and the single source for every
rendering: the Markdown report (:mod:`markdown`) and the terminal tables are
both drawn from it, through the row builders of :mod:`tables`, so they
cannot disagree.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crawler.evaluation.hashing import (
    DEFAULT_PHASH_THRESHOLD,
    PHASH_THRESHOLDS,
    FileResult,
)
from crawler.evaluation.metrics import pairs

if TYPE_CHECKING:  # these pull in NumPy, which `crawler crawl` does not need at start-up
    from crawler.evaluation.harness import Evaluation
    from crawler.evaluation.robustness import VariantEvaluation

Document = dict[str, Any]


def to_document(evaluation: Evaluation) -> Document:
    """The JSON result: inventory, settings, timing, ground truth and every method."""
    inv, params = evaluation.inventory, evaluation.params
    methods = {name: _without_name(asdict(m)) for name, m in evaluation.methods.items()}
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
            "unreadable": [asdict(p) for p in inv.unreadable],
            "skipped": [asdict(p) for p in inv.skipped],
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
        "methods": methods,
        "sweep": {
            "lengths": sorted(params.sweep),
            "shortest_without_false_positive": evaluation.shortest_clean_prefix,
        },
        "bytes_per_image": _bytes_per_image(inv.images, params.prefix_bytes, params.content_bytes),
        "content_sweep": {
            "lengths": params.content_lengths,
            "bytes": {str(k): _spread([image.fetched[k] for image in inv.images]) for k in params.content_lengths},
            "with_follow_ups": {str(k): sum(image.rounds[k] > 0 for image in inv.images) for k in params.content_lengths},
        },
        "perceptual": {
            "thresholds": list(PHASH_THRESHOLDS),
            "default_threshold": DEFAULT_PHASH_THRESHOLD,
            "images_with_hash": sum(image.perceptual_hash is not None for image in inv.images),
        },
        "variants": _variants(evaluation.variants) if evaluation.variants is not None else None,
    }


def _bytes_per_image(images: Sequence[FileResult], prefix_bytes: int, content_bytes: int) -> Document:
    """What the crawler fetches per image: one fixed prefix, or the adaptive ranges."""
    return {
        "fixed_prefix": _spread([min(image.size, prefix_bytes) for image in images]),
        "adaptive": _spread([image.fetched[content_bytes] for image in images]),
    }


def _spread(values: list[int]) -> Document:
    if not values:
        return {"median": None, "p90": None, "mean": None, "max": None}
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],  # nearest rank
        "mean": round(statistics.fmean(ordered), 1),
        "max": ordered[-1],
    }


def _variants(scored: VariantEvaluation) -> Document:
    return {
        "originals": scored.originals,
        "variants": scored.variants,
        "elapsed_seconds": round(scored.elapsed_seconds, 3),
        "methods": list(scored.union),
        "kinds": {
            kind.kind: {
                "pairs": kind.pairs,
                "not_applicable": kind.skipped,
                "matched": kind.matched,
                "recall": {method: kind.recall(method) for method in kind.matched},
                "content_coverage": kind.content_coverage,
                "perceptual_coverage": kind.perceptual_coverage,
            }
            for kind in scored.kinds
        },
        "union": {name: _without_name(asdict(metrics)) for name, metrics in scored.union.items()},
    }


def _without_name(metrics: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in metrics.items() if key != "method"}


