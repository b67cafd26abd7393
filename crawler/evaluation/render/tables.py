"""Document -> its tables and summary lines, every cell a formatted string. Pure.

The terminal and the Markdown report both draw these, so they show the same
tables, in the same order, with the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.evaluation.hashing import content_method, perceptual_method, sweep_method

if TYPE_CHECKING:
    from crawler.evaluation.document import Document, Variants
    from crawler.evaluation.metrics import MethodMetrics
    from crawler.evaluation.web_document import WebResult

_METHOD_HEADERS = (
    "Method", "Predicted pairs", "TP", "FP", "FN", "Precision", "Recall", "FP rate", "95% upper (FP=0)", "Images keyed",
)
_SWEEP_HEADERS = ("Prefix bytes", "Predicted pairs", "TP", "FP", "FP groups", "FP rate", "95% upper (FP=0)")
_CONTENT_HEADERS = (
    "K bytes", "Images keyed", "Predicted pairs", "TP", "FP", "FN", "Bytes median", "Bytes p90", "With follow-ups",
)
_PERCEPTUAL_HEADERS = ("Max distance", "Images with pHash", "Predicted pairs", "TP", "FP", "FN", "FP rate")
_BYTES_HEADERS = ("Fetch", "Median", "p90", "Mean", "Max")
_WEB_HEADERS = ("File", "Files", "Band hash", "Recall", "Bytes median", "Bytes p90")
_UNION_HEADERS = ("Method", "Predicted pairs", "Same picture", "FP", "Missed", "Recall", "FP rate", "95% upper (FP=0)")


@dataclass(frozen=True)
class Table:
    """A titled table, ready for any rendering."""

    title: str
    headers: tuple[str, ...]
    rows: list[list[str]]


def tables(document: Document) -> list[Table]:
    """The tables of every result: methods, bytes fetched, both sweeps and the pHash thresholds."""
    return [
        Table("Methods", _METHOD_HEADERS, _method_rows(document)),
        Table("Bytes fetched per image", _BYTES_HEADERS, _bytes_rows(document)),
        Table("Prefix-length sweep", _SWEEP_HEADERS, _sweep_rows(document)),
        Table("Content hash: K sweep", _CONTENT_HEADERS, _content_rows(document)),
        Table("Thumbnail pHash: Hamming thresholds", _PERCEPTUAL_HEADERS, _perceptual_rows(document)),
    ]


def variant_tables(variants: Variants) -> list[Table]:
    """The tables of the variant sets: recall per kind, and every method on originals and variants together."""
    found = [
        Table("Variant sets: recall per kind", _variant_headers(variants), _variant_rows(variants)),
        Table("Variant sets: originals and variants together", _UNION_HEADERS, _union_rows(variants)),
    ]
    web = variants["web"]
    if web is not None:
        title = f"Web perceptual fingerprint (top band, T = {web['threshold']}): recall and bytes per kind"
        found.append(Table(title, _WEB_HEADERS, _web_rows(web)))
    return found


def web_summary(web: WebResult) -> str:
    """The web fingerprint's false positives in a sentence."""
    nearest = web["nearest_different_distance"]
    return (
        f"Web perceptual fingerprint: {fmt_int(web['false_positives'])} of "
        f"{fmt_int(web['different_picture_pairs'])} pairs of different pictures within "
        f"{web['threshold']} bits (nearest: {'—' if nearest is None else nearest}); "
        f"{fmt_int(web['originals_with_thumbnail_left_out'])} originals with an EXIF thumbnail left out"
    )


def _web_rows(web: WebResult) -> list[list[str]]:
    """One row per web kind (and the originals): hashed, recall, bytes fetched per file."""
    return [
        [kind, fmt_int(row["files"]), _share(row["hashed"], row["files"]), _fmt_ratio(row["recall"]),
         fmt_int(row["bytes_median"]), fmt_int(row["bytes_p90"])]
        for kind, row in web["kinds"].items()
    ]


def fmt_int(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _fmt_rate(value: float | None) -> str:
    if value is None:
        return "—"
    return "0" if value == 0 else f"{value:.2e}"


def _share(count: int, total: int) -> str:
    return f"{count:,}/{total:,}"


def _method_rows(document: Document) -> list[list[str]]:
    """One row per field the crawler records (the sweeps have their own tables)."""
    return [_method_row(name, document["methods"][name]) for name in document["main_methods"]]


def _method_row(name: str, m: MethodMetrics) -> list[str]:
    return [
        name,
        fmt_int(m["predicted_pairs"]),
        fmt_int(m["true_positives"]),
        fmt_int(m["false_positives"]),
        fmt_int(m["false_negatives"]),
        _fmt_ratio(m["precision"]),
        _fmt_ratio(m["recall"]),
        _fmt_rate(m["false_positive_rate"]),
        _fmt_rate(m["false_positive_rate_upper_95"]),
        _share(m["keyed"], m["images"]),
    ]


def _sweep_rows(document: Document) -> list[list[str]]:
    """One row per swept prefix length, shortest first."""
    rows = []
    for length in document["sweep"]["lengths"]:
        m = document["methods"][sweep_method(length)]
        rows.append([
            fmt_int(length),
            fmt_int(m["predicted_pairs"]),
            fmt_int(m["true_positives"]),
            fmt_int(m["false_positives"]),
            fmt_int(len(m["false_positive_groups"])),
            _fmt_rate(m["false_positive_rate"]),
            _fmt_rate(m["false_positive_rate_upper_95"]),
        ])
    return rows


def _content_rows(document: Document) -> list[list[str]]:
    """One row per K of the content hash: what it confuses, what it costs in bytes."""
    rows = []
    sweep = document["content_sweep"]
    for k in sweep["lengths"]:
        m, spent = document["methods"][content_method(k)], sweep["bytes"][str(k)]
        counts = (m["predicted_pairs"], m["true_positives"], m["false_positives"], m["false_negatives"])
        row = [fmt_int(k), _share(m["keyed"], m["images"]), *map(fmt_int, counts)]
        follow_ups = _share(sweep["with_follow_ups"][str(k)], m["images"])
        rows.append(row + [fmt_int(spent["median"]), fmt_int(spent["p90"]), follow_ups])
    return rows


def _perceptual_rows(document: Document) -> list[list[str]]:
    """One row per Hamming threshold of the thumbnail pHash."""
    rows = []
    for threshold in document["perceptual"]["thresholds"]:
        m = document["methods"][perceptual_method(threshold)]
        counts = (m["predicted_pairs"], m["true_positives"], m["false_positives"], m["false_negatives"])
        rows.append([f"≤ {threshold}", _share(m["keyed"], m["images"]), *map(fmt_int, counts),
                     _fmt_rate(m["false_positive_rate"])])
    return rows


def _bytes_rows(document: Document) -> list[list[str]]:
    """Bytes per image: the fixed prefix against the adaptive ranges."""
    settings, spread = document["settings"], document["bytes_per_image"]
    adaptive = (
        f"adaptive (cap {settings['max_bytes_per_image']:,} B, {settings['max_rounds']} rounds, "
        f"K = {settings['content_bytes']:,})"
    )
    named = ((f"fixed prefix ({settings['prefix_bytes']:,} B)", spread["fixed_prefix"]), (adaptive, spread["adaptive"]))
    return [[name, *map(fmt_int, (s["median"], s["p90"], s["mean"], s["max"]))] for name, s in named]


def _variant_headers(variants: Variants) -> tuple[str, ...]:
    methods = [_short(method) for method in variants["methods"]]
    return ("Variant", "Pairs", "Not made", *methods, "content on both", "pHash on both")


def _short(method: str) -> str:
    """A narrow column header for a method name."""
    return method.replace("prefix_sha256_", "prefix ").replace("perceptual_hash<=", "pHash ≤ ")


def _variant_rows(variants: Variants) -> list[list[str]]:
    """Recall per variant kind and method: the share of (original, variant) pairs matched."""
    rows = []
    for kind, k in variants["kinds"].items():
        recalls = [_fmt_ratio(k["recall"][method]) for method in variants["methods"]]
        skipped = fmt_int(sum(k["not_applicable"].values()))
        coverage = [_share(k["content_coverage"], k["pairs"]), _share(k["perceptual_coverage"], k["pairs"])]
        rows.append([kind, fmt_int(k["pairs"]), skipped, *recalls, *coverage])
    return rows


def _union_rows(variants: Variants) -> list[list[str]]:
    """Every method on the originals and their variants: same-picture pairs found, and false positives."""
    rows = []
    for name, m in variants["union"].items():
        rows.append([
            name,
            fmt_int(m["predicted_pairs"]),
            fmt_int(m["true_positives"]),
            fmt_int(m["false_positives"]),
            fmt_int(m["false_negatives"]),
            _fmt_ratio(m["recall"]),
            _fmt_rate(m["false_positive_rate"]),
            _fmt_rate(m["false_positive_rate_upper_95"]),
        ])
    return rows


def summary_lines(document: Document) -> list[str]:
    """The inventory and the ground truth in a few sentences."""
    c, t, s = document["counts"], document["ground_truth"], document["settings"]
    clean = document["sweep"]["shortest_without_false_positive"]
    lines = [
        f"Corpus: {document['corpus']} ({document['source']})",
        f"Files seen: {fmt_int(c['files_seen'])}; images evaluated: {fmt_int(c['images_evaluated'])}; "
        f"excluded under {fmt_int(s['min_image_bytes'])} bytes: {fmt_int(c['excluded_under_min_size'])}; "
        f"non-image: {c['non_image']}; empty: {c['empty']}; unreadable: {c['unreadable']}; skipped: {c['skipped']}",
        f"True duplicates (full-file SHA-256): {fmt_int(t['duplicate_groups'])} groups, "
        f"{fmt_int(t['duplicate_pairs'])} pairs; non-duplicate pairs: {fmt_int(t['non_duplicate_pairs'])}",
        "Shortest swept prefix with no false positive: "
        + (f"{fmt_int(clean)} bytes" if clean is not None else "none of the swept lengths"),
        f"Elapsed: {document['elapsed_seconds']:.2f} s with {s['workers']} worker(s) "
        f"on {document['machine']['cpu_count']} CPU(s)",
    ]
    variants = document["variants"]
    if variants is not None:
        lines.append(
            f"Variant sets: {fmt_int(variants['variants'])} variants of {fmt_int(variants['originals'])} images, "
            f"{variants['elapsed_seconds']:.2f} s"
        )
        if variants["web"] is not None:
            lines.append(web_summary(variants["web"]))
    return lines
