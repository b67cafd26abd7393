"""Originals + their variants -> recall per variant kind and false positives on the union. Pure.

Recall of a method on a kind: the fraction of (original, variant) pairs it
matches (equal keys; for the pHash, at most T bits apart). An image without
the key (no content hash, no pHash) matches nothing, so ``content_coverage``
and ``perceptual_coverage`` say how many pairs had the key on both sides.

False positives are counted on the union of the originals and all their
variants, against a truth where two files are the same picture when one is
derived from the other, both derive from the same original, or they are
byte-identical (:func:`crawler.evaluation.metrics.component_labels` joins
those links). Every other pair a method matches is a false positive.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from crawler.evaluation.hashing import (
    CONTENT_METHOD,
    PHASH_THRESHOLDS,
    PREFIX_METHOD,
    PREFIX_SIZE_METHOD,
    FileResult,
    perceptual_method,
)
from crawler.evaluation.metrics import (
    MethodMetrics,
    component_labels,
    measure,
    measure_pairs,
)
from crawler.evaluation.near import near_pairs
from crawler.evaluation.variants import KINDS, Outcome
from crawler.evaluation.web_score import WebEvaluation, score_web
from crawler.fingerprint.layout import CONTENT_BYTES
from crawler.fingerprint.perceptual import distance

KEY_METHODS = (PREFIX_METHOD, PREFIX_SIZE_METHOD, CONTENT_METHOD)
PERCEPTUAL_METHODS = tuple(perceptual_method(t) for t in PHASH_THRESHOLDS)


@dataclass(frozen=True)
class KindScore:
    """One kind of variant: pairs made, originals it did not apply to, pairs each method matched."""

    kind: str
    pairs: int
    skipped: dict[str, int]  # reason -> originals
    matched: dict[str, int]  # method -> (original, variant) pairs matched
    content_coverage: int  # pairs where both files have a content_sha256
    perceptual_coverage: int  # pairs where both files have a pHash

    def recall(self, method: str) -> float | None:
        return self.matched[method] / self.pairs if self.pairs else None


@dataclass(frozen=True)
class VariantEvaluation:
    """The variant sets of a sample of originals, scored."""

    originals: int
    variants: int
    kinds: list[KindScore]
    union: dict[str, MethodMetrics]  # every method on originals + variants, "same picture" as truth
    elapsed_seconds: float = 0.0
    web: WebEvaluation | None = None  # the web perceptual fingerprint on the web family


def score_variants(
    originals: Sequence[FileResult],
    variants: Sequence[FileResult],
    outcomes: Sequence[Outcome],
    content_bytes: int = CONTENT_BYTES,
) -> VariantEvaluation:
    """Score ``variants`` (hashed, paths as written) against the ``originals`` they came from.

    ``content_bytes``: the crawler's K, whose bytes fetched the web score counts.
    """
    by_path = {original.path: original for original in originals}
    made = {outcome.path: outcome for outcome in outcomes if outcome.path}
    pairs = [(by_path[made[v.path].original], v, made[v.path].kind) for v in variants if v.path in made]
    kinds = [_kind_score(kind, [(o, v) for o, v, k in pairs if k == kind], outcomes) for kind in KINDS]
    files = [*originals, *(v for _, v, _ in pairs)]
    names = [o.path for o in originals] + [f"{o.path} [{kind}]" for o, _, kind in pairs]
    sources = [o.path for o in originals] + [o.path for o, _, _ in pairs]
    web = score_web(originals, pairs, content_bytes)
    return VariantEvaluation(len(originals), len(pairs), kinds, _union(files, names, sources), web=web)


def _kind_score(kind: str, pairs: list[tuple[FileResult, FileResult]], outcomes: Sequence[Outcome]) -> KindScore:
    skipped = Counter(outcome.reason for outcome in outcomes if outcome.kind == kind and not outcome.path)
    matched = {method: sum(_same_key(o, v, method) for o, v in pairs) for method in KEY_METHODS}
    for threshold, method in zip(PHASH_THRESHOLDS, PERCEPTUAL_METHODS):
        matched[method] = sum(_near(o, v, threshold) for o, v in pairs)
    return KindScore(
        kind=kind,
        pairs=len(pairs),
        skipped=dict(sorted(skipped.items())),
        matched=matched,
        content_coverage=sum(CONTENT_METHOD in o.keys and CONTENT_METHOD in v.keys for o, v in pairs),
        perceptual_coverage=sum(o.thumbnail_hash is not None and v.thumbnail_hash is not None for o, v in pairs),
    )


def _same_key(first: FileResult, second: FileResult, method: str) -> bool:
    key = first.keys.get(method)
    return key is not None and key == second.keys.get(method)


def _near(first: FileResult, second: FileResult, threshold: int) -> bool:
    if first.thumbnail_hash is None or second.thumbnail_hash is None:
        return False
    return distance(first.thumbnail_hash, second.thumbnail_hash) <= threshold


def _union(files: list[FileResult], names: list[str], sources: list[str]) -> dict[str, MethodMetrics]:
    truth = [str(label) for label in _same_picture(files, sources)]
    scores = {method: measure(names, truth, [f.keys.get(method) for f in files]) for method in KEY_METHODS}
    hashes = [f.thumbnail_hash for f in files]
    near = near_pairs(hashes, max(PHASH_THRESHOLDS))
    keyed = sum(value is not None for value in hashes)
    for threshold, method in zip(PHASH_THRESHOLDS, PERCEPTUAL_METHODS):
        within = [(i, j) for i, j, d in near if d <= threshold]
        scores[method] = measure_pairs(names, truth, within, keyed)
    return scores


def _same_picture(files: list[FileResult], sources: list[str]) -> list[int]:
    """A label per file, shared by files from one original and by byte-identical files."""
    links: defaultdict[str, list[int]] = defaultdict(list)
    for index, (result, source) in enumerate(zip(files, sources, strict=True)):
        links[f"sha:{result.sha256}"].append(index)
        links[f"src:{source}"].append(index)
    return component_labels(len(files), [(group[0], other) for group in links.values() for other in group[1:]])
