"""Document -> the Markdown report. Pure.

The tables and summary come from :mod:`.tables`, as the terminal's do; this
module adds the lists (false-positive groups, true duplicates, files not
evaluated, the reasons variants could not be made) and the definitions.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from crawler.evaluation.render.tables import (
    Table,
    fmt_int,
    summary_lines,
    tables,
    variant_tables,
)

if TYPE_CHECKING:
    from crawler.evaluation.document import Document, Variants
    from crawler.evaluation.metrics import MethodMetrics

_MD_GROUPS, _MD_PATHS, _MD_NAMES = 50, 20, 200


def to_markdown(document: Document) -> str:
    """The readable report: summary, tables, false-positive groups, files not evaluated."""
    lines = [f"# Fingerprint evaluation: `{document['corpus']}`", ""]
    lines += [f"- {line}" for line in summary_lines(document)] + [""]
    for table in tables(document):
        lines += _md_table(table)
    lines += [f"Default threshold: {document['perceptual']['default_threshold']} bits of 64.", ""]
    if document["variants"] is not None:
        lines += _md_variants(document["variants"])
    lines += _md_fp_groups("False-positive groups", document["methods"])
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


def _md_variants(variants: Variants) -> list[str]:
    lines = [line for table in variant_tables(variants) for line in _md_table(table)]
    reasons: Counter[str] = Counter()
    for kind, k in variants["kinds"].items():
        reasons.update({f"{kind}: {reason}": count for reason, count in k["not_applicable"].items()})
    lines += _md_section("Variants not made", [f"{reason} ({count})" for reason, count in sorted(reasons.items())])
    web = variants["web"]
    if web is not None and web["false_positive_pairs"]:
        pairs = [f"`{p['first']}` / `{p['second']}`: {p['distance']} bits" for p in web["false_positive_pairs"]]
        lines += _md_section("Web perceptual fingerprint: false positives (first pairs)", pairs)
    return lines + _md_fp_groups("Variant sets: false-positive groups", variants["union"])


def _md_table(table: Table) -> list[str]:
    """A section: the title as a heading, then the table."""
    lines = [f"## {table.title}", "", "| " + " | ".join(table.headers) + " |", "|" + "---|" * len(table.headers)]
    return lines + ["| " + " | ".join(row) + " |" for row in table.rows] + [""]


def _md_fp_groups(title: str, methods: dict[str, MethodMetrics]) -> list[str]:
    lines = [f"## {title}", ""]
    for name, m in methods.items():
        groups = m["false_positive_groups"]
        heading = f"`{name}`: {len(groups)} group(s)"
        lines += _md_section(heading, [_md_group(g) for g in groups[:_MD_GROUPS]], level=3)
        if len(groups) > _MD_GROUPS:
            lines += [f"… and {len(groups) - _MD_GROUPS} more groups (see the JSON result).", ""]
    return lines if len(lines) > 2 else lines + ["None: no method called two different pictures the same.", ""]


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
- `content_sha256`: the crawler's hash of what defines the picture (JPEG frame, tables and the first
  K bytes of the scan; PNG header, palette and the first K bytes of image data), computed from the
  bytes the crawler's adaptive range loop fetches of the file; `content_sha256_K` the same at
  another K. An image without one (a format it does not cover, or data past the byte cap) pairs
  with nothing; *Images keyed* counts those that have one.
- `perceptual_hash<=T`: two images whose EXIF-thumbnail pHashes (64 bits) differ in at most T bits.
  Its false-positive "groups" are the pairs.
- Precision = TP / predicted pairs (n/a when nothing is predicted); recall = TP / true pairs
  (n/a when there are none); FP rate = FP / non-duplicate pairs. When FP = 0 the 95% upper bound
  is 1 - 0.05^(1/n), about 3/n for n non-duplicate pairs (rule of three).
- Variant sets: recall of a kind = (original, variant) pairs matched / pairs made. Together, two
  files are the same picture when one derives from the other, both derive from one original, or
  they are byte-identical; every other matched pair is a false positive. Variants are evaluated
  whatever their size.
- Web perceptual fingerprint: the `web_*` variants (re-encoded as a site re-posts a picture,
  metadata dropped) against their originals, for originals without an EXIF thumbnail. A file's
  hash is the record's `perceptual_hash` from the top band of its picture (source `top_band_N:...`),
  from the bytes the crawler's adaptive plan fetches; recall = variants within T bits of their
  original's band hash, of the same band (no hash: a miss); false positives = pairs of band hashes
  of different pictures (originals and variants) within T bits. Bytes are per file, prefix included.
- Images under the minimum size, non-images, empty, unreadable and skipped files are not evaluated,
  as the crawler does not fingerprint them; they are counted and named above.
"""
