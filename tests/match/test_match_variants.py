"""Measured correctness of ``crawler match``: the corpus on one host, its variants on another.

nginx serves the shared corpus (host A) and the eval harness's variants of
every original (host B: stripped, EXIF edited, comment added, re-saved,
resized, resized with a new thumbnail; crawler/evaluation/variants.py); the
real CLI crawls a page of each and runs ``crawler match``. Checked, at the
default thresholds:

- no group joins two different pictures;
- every variant whose own fingerprints tie it to its original (equal prefix
  hash and size, equal content hash, or pHashes of one kind within that
  kind's threshold: EXIF thumbnails, or top bands of web images) is
  grouped with it;
- the per-kind figures (grouped, and at which level) are printed for the
  report (``pytest -s``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from crawler.evaluation.variants import KINDS, Original, write_variants
from crawler.fingerprint.perceptual import hash_kind
from crawler.fingerprint.sniff import sniff_format
from crawler.match.evidence import Thresholds, hamming
from crawler.match.model import GROUPS
from crawler.settings import IndexSettings
from tests.support import cli_process

# Originals of the corpus that are one picture: exif-at-eof.heic is IMG_2927.HEIC re-muxed with its
# EXIF moved to the end (173 of the 175 4 KB blocks of the latter's image data occur in the former).
SAME_PICTURE = {"heic/exif-at-eof.heic": "heic/IMG_2927.HEIC"}


def page(root: Path, paths: list[str]) -> None:
    (root / "index.html").write_text("<html><body>" + "".join(f'<img src="/{p}">' for p in paths) + "</body></html>")


def test_each_variant_is_grouped_with_its_original_exactly_where_its_fingerprints_allow(
        tmp_path: Path, nginx_factory: Any, corpus: Path) -> None:
    site_a, site_b = tmp_path / "a", tmp_path / "b"
    site_a.mkdir()
    family: dict[str, str] = {}  # URL path -> original
    originals = []
    for index, path in enumerate(sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != "README.md")):
        relative = path.relative_to(corpus).as_posix()
        (site_a / relative).parent.mkdir(parents=True, exist_ok=True)
        (site_a / relative).symlink_to(path)
        image_format = sniff_format(path.read_bytes()[:16])
        if image_format is None:
            continue
        family[relative] = relative
        originals.append(relative)
        for outcome in write_variants(Original(index, relative, image_format), path.read_bytes(), site_b):
            if outcome.path:
                family[outcome.path] = relative
    page(site_a, originals)
    page(site_b, [p for p in family if p not in originals])
    server_a, server_b = nginx_factory(site_a), nginx_factory(site_b)
    (tmp_path / "urls.txt").write_text(f"{server_a.url('/index.html')}\n{server_b.url('/index.html')}\n")
    done = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "data", "--no-progress", timeout=600)
    assert done.returncode == 0, done.stderr
    records = {str(r["url"]).split("/", 3)[3]: r for f in cli_process.load_files(tmp_path / "data").values() for r in f}
    assert len(records) == len(family)
    matched = cli_process.run(tmp_path, "match", "data", "--format", "jsonl", timeout=300)
    assert matched.returncode == 0, matched.stderr
    group_of: dict[str, int] = {}  # URL path -> its group's number
    for line in matched.stdout.splitlines():
        group = GROUPS.validate_json(line)
        pictures = {picture(family[m.url.split("/", 3)[3]]) for m in group.members}
        assert len(pictures) == 1, f"group {group.group} joins different pictures: {sorted(pictures)}"
        for m in group.members:
            group_of[m.url.split("/", 3)[3]] = group.group
    figures: dict[str, Counter[str]] = defaultdict(Counter)
    for variant, original in family.items():
        if variant == original:
            continue
        kind = variant.split("/", 1)[0]
        allowed = direct_level(records[variant], records[original])
        grouped = variant in group_of and group_of[variant] == group_of.get(original)
        figures[kind]["variants"] += 1
        figures[kind]["fingerprints allow"] += allowed is not None
        figures[kind]["grouped"] += grouped
        if allowed is not None:
            figures[kind][f"level {allowed}"] += 1
            assert grouped, f"{variant} is not grouped with {original} although level {allowed} ties them"
    print("\nper-variant figures (default thresholds):")
    for kind in KINDS:
        print(f"  {kind}: {dict(figures[kind])}")


def picture(original: str) -> str:
    return SAME_PICTURE.get(original, original)


def direct_level(variant: dict[str, object], original: dict[str, object]) -> int | None:
    """The strongest evidence level the two records' own fields give, or None."""
    if variant["status"] != "ok" or original["status"] != "ok":
        return None
    if variant["image_size"] is not None and (variant["sha256_first_10240_bytes"], variant["image_size"]) == (
            original["sha256_first_10240_bytes"], original["image_size"]):
        return 1
    if variant["content_sha256"] and variant["content_sha256"] == original["content_sha256"]:
        return 2
    first, second = variant["perceptual_hash"], original["perceptual_hash"]
    kind = hash_kind(str(variant["perceptual_hash_source"] or ""))
    if not isinstance(first, str) or not isinstance(second, str) or not kind:
        return None
    same_kind = kind == hash_kind(str(original["perceptual_hash_source"] or ""))  # hashes compare within a kind
    if same_kind and hamming(int(first, 16), int(second, 16)) <= Thresholds.of(IndexSettings()).for_kind(kind):
        return 3
    return None
