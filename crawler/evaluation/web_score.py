"""The web family of variants -> how well the web perceptual fingerprint follows a picture. Pure.

Scored on the JPEG, PNG and WebP originals without an EXIF thumbnail (those
with one keep the thumbnail's pHash, which the re-encoded copies lose with
their metadata; other formats get no band hash and no web variant) and
their web variants (:mod:`web_variants`), each hashed from the bytes the
crawler's adaptive plan fetches of it:

- per kind: how many files got a band hash, the recall (the share of
  originals whose variant's band hash lies within ``index.band_threshold`` bits of
  theirs, of the same band; a file without a hash is a miss), and the bytes
  fetched per file (median and p90);
- false positives: every pair of band hashes of the same band from
  *different* pictures (originals and variants alike) of the same aspect
  ratio (what matching compares) within the threshold, out of all such
  pairs; and the smallest distance between different pictures.

Two files are one picture when they derive from the same original or are
byte-identical (as in :mod:`robustness`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from crawler.evaluation.hashing import FileResult
from crawler.evaluation.metrics import component_labels
from crawler.evaluation.web_variants import WEB_KINDS
from crawler.fingerprint.band import ASPECT_TOLERANCE, BAND_FORMATS, same_shape
from crawler.fingerprint.perceptual import distance, hash_kind
from crawler.settings import INDEX_DEFAULTS

ORIGINAL = "original"
_BLOCK_ROWS = 256
_LISTED_PAIRS = 20


@dataclass(frozen=True)
class WebKindScore:
    """One row: the originals themselves, or one web kind."""

    kind: str
    files: int
    hashed: int
    matched: int | None  # None for the originals' own row
    bytes_median: float | None
    bytes_p90: int | None

    @property
    def recall(self) -> float | None:
        return None if self.matched is None or not self.files else self.matched / self.files


@dataclass(frozen=True)
class WebEvaluation:
    threshold: int
    with_thumbnail: int  # JPEG, PNG and WebP originals left out: they keep the thumbnail's pHash
    rows: list[WebKindScore]
    different_pairs: int  # pairs of band hashes of the same band from different pictures
    false_positives: int  # those within the threshold
    nearest_different: int | None  # smallest distance between different pictures
    false_positive_pairs: list[tuple[str, str, int]]  # the first few, named


def score_web(
    originals: Sequence[FileResult], pairs: Sequence[tuple[FileResult, FileResult, str]], content_bytes: int
) -> WebEvaluation:
    """Score the web variants of ``pairs`` ((original, variant, kind)) against their originals.

    ``content_bytes`` is the crawler's K, whose adaptive run's bytes are counted.
    """
    kept = [o for o in originals if o.thumbnail_hash is None and o.format in BAND_FORMATS]
    paths = {o.path for o in kept}
    web = [(o, v, kind) for o, v, kind in pairs if kind in WEB_KINDS and o.path in paths]
    rows = [_row(ORIGINAL, [(o, o) for o in kept], content_bytes, own=True)]
    rows += [_row(kind, [(o, v) for o, v, k in web if k == kind], content_bytes) for kind in WEB_KINDS]
    files = [*kept, *(v for _, v, _ in web)]
    names = [o.path for o in kept] + [f"{o.path} [{kind}]" for o, _, kind in web]
    sources = [o.path for o in kept] + [o.path for o, _, _ in web]
    labels = _same_picture(files, sources)
    different, false_positives, nearest, listed = _different_pictures(files, labels, names)
    with_thumbnail = sum(o.thumbnail_hash is not None and o.format in BAND_FORMATS for o in originals)
    return WebEvaluation(INDEX_DEFAULTS.band_threshold, with_thumbnail, rows, different, false_positives, nearest, listed)


def _row(kind: str, pairs: list[tuple[FileResult, FileResult]], content_bytes: int, own: bool = False) -> WebKindScore:
    spent = sorted(v.fetched.get(content_bytes, 0) for _, v in pairs)
    matched = None if own else sum(_near(o, v) for o, v in pairs)
    median, p90 = _spread(spent)
    return WebKindScore(kind, len(pairs), sum(v.band_hash is not None for _, v in pairs), matched, median, p90)


def _near(original: FileResult, variant: FileResult) -> bool:
    first, second = original.band_hash, variant.band_hash
    if first is None or second is None or original.perceptual_source is None or variant.perceptual_source is None:
        return False
    same_band = hash_kind(original.perceptual_source) == hash_kind(variant.perceptual_source)
    return same_band and same_shape(original.shape, variant.shape) and distance(first, second) <= INDEX_DEFAULTS.band_threshold


def _spread(values: list[int]) -> tuple[float | None, int | None]:
    if not values:
        return None, None
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return median, values[min(len(values) - 1, int(0.9 * len(values)))]  # nearest rank, as the main report


def _same_picture(files: list[FileResult], sources: list[str]) -> list[int]:
    links: dict[str, list[int]] = {}
    for index, (result, source) in enumerate(zip(files, sources, strict=True)):
        links.setdefault(f"sha:{result.sha256}", []).append(index)
        links.setdefault(f"src:{source}", []).append(index)
    return component_labels(len(files), [(group[0], other) for group in links.values() for other in group[1:]])


def _different_pictures(
    files: list[FileResult], labels: list[int], names: list[str]
) -> tuple[int, int, int | None, list[tuple[str, str, int]]]:
    """(pairs compared, within the threshold, nearest distance, the first such pairs named), with numpy."""
    hashed = [i for i, f in enumerate(files) if f.band_hash is not None and f.perceptual_source is not None]
    values = np.array([int(files[i].band_hash or "0", 16) for i in hashed], dtype=np.uint64)
    bands = Counter(hash_kind(files[i].perceptual_source or "") for i in hashed)
    band_ids = {band: n for n, band in enumerate(bands)}
    kinds = np.array([band_ids[hash_kind(files[i].perceptual_source or "")] for i in hashed], dtype=np.int64)
    pictures = np.array([labels[i] for i in hashed], dtype=np.int64)
    ratios = np.array([_ratio(files[i].shape) for i in hashed], dtype=np.float64)  # NaN when unknown: never equal
    compared = within = 0
    nearest: int | None = None
    listed: list[tuple[str, str, int]] = []
    for start in range(0, len(hashed), _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, len(hashed))
        distances = np.bitwise_count(values[start:stop, None] ^ values[None, :])
        later = np.arange(len(hashed))[None, :] > np.arange(start, stop)[:, None]
        mask = later & (kinds[start:stop, None] == kinds[None, :]) & (pictures[start:stop, None] != pictures[None, :])
        # crawler.fingerprint.band.same_shape, over a block of pairs at once
        block = ratios[start:stop, None]
        mask &= np.abs(block - ratios[None, :]) <= ASPECT_TOLERANCE * np.maximum(block, ratios[None, :])
        compared += int(mask.sum())
        if mask.any():
            low = int(distances[mask].min())
            nearest = low if nearest is None else min(nearest, low)
        rows, columns = np.nonzero(mask & (distances <= INDEX_DEFAULTS.band_threshold))
        within += len(rows)
        for r, c in zip(rows.tolist()[:_LISTED_PAIRS], columns.tolist()[:_LISTED_PAIRS]):
            if len(listed) < _LISTED_PAIRS:
                listed.append((names[hashed[start + r]], names[hashed[c]], int(distances[r, c])))
    return compared, within, nearest, listed



def _ratio(shape: tuple[int | None, int | None]) -> float:
    width, height = shape
    return width / height if width and height else float("nan")
