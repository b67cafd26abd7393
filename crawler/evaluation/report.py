"""Evaluation -> JSON document -> Markdown report. No printing.

The JSON document is the result file and the single source for every
rendering: the Markdown report and the terminal tables are both drawn from
it, through the row builders below, so they cannot disagree.
"""

from __future__ import annotations

import os
import platform
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from crawler.evaluation.harness import Evaluation
from crawler.evaluation.hashing import sweep_method
from crawler.evaluation.metrics import pairs

METHOD_HEADERS = ("Method", "Predicted pairs", "TP", "FP", "FN", "Precision", "Recall", "FP rate", "95% upper (FP=0)")
SWEEP_HEADERS = ("Prefix bytes", "Predicted pairs", "TP", "FP", "FP groups", "FP rate", "95% upper (FP=0)")
_MD_GROUPS, _MD_PATHS, _MD_NAMES = 50, 20, 200

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
            "sweep_bytes": sorted(params.sweep),
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
    }


def _without_name(metrics: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in metrics.items() if key != "method"}


def fmt_int(value: int) -> str:
    return f"{value:,}"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "—"
    return "0" if value == 0 else f"{value:.2e}"


def method_rows(document: Document) -> list[list[str]]:
    """One row per method the crawler records (the sweep has its own table)."""
    return [
        [
            name,
            fmt_int(m["predicted_pairs"]),
            fmt_int(m["true_positives"]),
            fmt_int(m["false_positives"]),
            fmt_int(m["false_negatives"]),
            fmt_ratio(m["precision"]),
            fmt_ratio(m["recall"]),
            fmt_rate(m["false_positive_rate"]),
            fmt_rate(m["false_positive_rate_upper_95"]),
        ]
        for name, m in ((name, document["methods"][name]) for name in document["main_methods"])
    ]


def sweep_rows(document: Document) -> list[list[str]]:
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
            fmt_rate(m["false_positive_rate"]),
            fmt_rate(m["false_positive_rate_upper_95"]),
        ])
    return rows


def summary_lines(document: Document) -> list[str]:
    """The inventory and the ground truth in a few sentences."""
    c, t, s = document["counts"], document["ground_truth"], document["settings"]
    clean = document["sweep"]["shortest_without_false_positive"]
    return [
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


def render_markdown(document: Document) -> str:
    """The readable report: summary, tables, false-positive groups, files not evaluated."""
    lines = [f"# Prefix fingerprint evaluation: `{document['corpus']}`", ""]
    lines += [f"- {line}" for line in summary_lines(document)] + [""]
    lines += ["## Methods", "", *_md_table(METHOD_HEADERS, method_rows(document)), ""]
    lines += ["## Prefix-length sweep", "", *_md_table(SWEEP_HEADERS, sweep_rows(document)), ""]
    lines += _md_fp_groups(document)
    lines += _md_section("True duplicate groups", [_md_group(g) for g in document["ground_truth"]["groups"]])
    files = document["files"]
    small = [f"`{r['path']}` ({fmt_int(r['size'])} bytes)" for r in files["excluded_under_min_size"]]
    lines += _md_section("Excluded under the minimum size", small)
    lines += _md_section("Non-image files", [f"`{p}`" for p in files["non_image"]])
    lines += _md_section("Empty files", [f"`{p}`" for p in files["empty"]])
    lines += _md_section("Unreadable", [f"`{p['path']}`: {p['reason']}" for p in files["unreadable"]])
    lines += _md_section("Skipped", [f"`{p['path']}`: {p['reason']}" for p in files["skipped"]])
    lines += [_DEFINITIONS]
    return "\n".join(lines)


def _md_table(headers: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _md_fp_groups(document: Document) -> list[str]:
    lines = ["## False-positive groups", ""]
    for name, m in document["methods"].items():
        groups = m["false_positive_groups"]
        title = f"`{name}`: {len(groups)} group(s)"
        lines += _md_section(title, [_md_group(g) for g in groups[:_MD_GROUPS]], level=3)
        if len(groups) > _MD_GROUPS:
            lines += [f"… and {len(groups) - _MD_GROUPS} more groups (see the JSON result).", ""]
    return lines if len(lines) > 2 else lines + ["None: no method called two different files the same.", ""]


def _md_group(group: list[str]) -> str:
    shown = ", ".join(f"`{p}`" for p in group[:_MD_PATHS])
    return shown + (f" … and {len(group) - _MD_PATHS} more" if len(group) > _MD_PATHS else "")


def _md_section(title: str, items: list[str], level: int = 2) -> list[str]:
    if not items:
        return []
    lines = [f"{'#' * level} {title}", ""] + [f"1. {item}" for item in items[:_MD_NAMES]]
    if len(items) > _MD_NAMES:
        lines.append(f"\n… and {len(items) - _MD_NAMES} more (see the JSON result).")
    return lines + [""]


_DEFINITIONS = """## How to read this

- Ground truth: two images are duplicates when the SHA-256 of the whole files are equal.
- A method predicts a pair when it gives two images the same key. TP: predicted pairs that are
  true duplicates; FP: predicted pairs of different files; FN: true pairs the method missed.
- `prefix_sha256_N`: SHA-256 of the first N bytes (`prefix_sha256_10240` is the crawler's
  `sha256_first_10240_bytes`); `+size` also requires equal total sizes; `sample_N` is the crawler's
  `random_128_bytes_sample_start` (N bytes at an offset derived from the prefix hash), compared alone.
- Precision = TP / predicted pairs (n/a when nothing is predicted); recall = TP / true pairs
  (n/a when there are none); FP rate = FP / non-duplicate pairs. When FP = 0 the 95% upper bound
  is 1 - 0.05^(1/n), about 3/n for n non-duplicate pairs (rule of three).
- Images under the minimum size, non-images, empty, unreadable and skipped files are not evaluated,
  as the crawler does not fingerprint them; they are counted and named above.
"""
