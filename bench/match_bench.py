"""Benchmark: `crawler match` over a large synthetic index, and the near-duplicate search.

A generator writes N synthetic records straight into an SQLite index (the
rows a crawl would write, without the crawl): pictures are spread over pages
and hosts with a long tail (a few images on many pages, most on one), and a
share of sightings are edited copies: metadata changed (new prefix and size,
same content hash and pHash), re-saved (new content hash, pHash a few bits
off) or unrelated. Of the pictures, 45% have an EXIF-thumbnail pHash and 45%
a top-band pHash (a web image), uniformly random bits; the rest have none.
Hashes compare within their kind, at that kind's threshold (the defaults of
``index.phash_threshold`` and ``index.band_threshold``).

Measured, in one run:

1. ``find_groups`` (what ``crawler match`` runs) over the whole index, by
   phase, and the JSON Lines rendering;
2. all near-duplicate pairs of the distinct pHashes: multi-index hashing
   (``crawler.match.near.near_pairs``) against a vectorised popcount scan
   (one xor + popcount pass over all hashes per hash; timed on a sample of
   queries and scaled to all of them);
3. one ``--image`` query (``crawler.match.query.image_groups``): multi-index
   hashing in the database against reading every pHash and scanning it.

Usage: ``python bench/match_bench.py [--records 1000000] [--out bench/results/match-bench]``
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import result_files  # noqa: E402  (beside this script)
from crawler.index.base import Database  # noqa: E402
from crawler.index.database import connect  # noqa: E402
from crawler.index.rows import phash_pieces  # noqa: E402
from crawler.index.schema import IMAGE_COLUMNS  # noqa: E402
from crawler.match import load, render  # noqa: E402
from crawler.match.grouping import group  # noqa: E402
from crawler.match.near import as_unsigned, near_pairs, within  # noqa: E402
from crawler.match.evidence import Thresholds  # noqa: E402
from crawler.match.query import Keys, image_groups  # noqa: E402
from crawler.match.report import build_groups  # noqa: E402
from crawler.settings import INDEX_DEFAULTS  # noqa: E402

THRESHOLDS = Thresholds.of(INDEX_DEFAULTS)
THRESHOLD = THRESHOLDS.thumbnail  # the larger: the near-pair count below is for the thumbnails' threshold
KINDS = ("exif_thumbnail", "top_band_8")


def generate(database: Database, records: int, seed: int = 1) -> dict[str, int]:
    """Insert ``records`` synthetic rows; returns what was made."""
    rng = np.random.default_rng(seed)
    pictures = records * 4 // 5
    hosts = max(1, records // 2000)
    # Three sightings in four are of a picture of their own; the rest are of pictures drawn from a
    # Zipf-like tail (a few everywhere, like logos) or uniformly (one image reposted on a few sites).
    picture_of = np.arange(records) * pictures // max(records, 1)
    shared = rng.random(records) < 0.25
    tail = np.minimum(rng.zipf(1.3, records) - 1, pictures - 1)
    picture_of = np.where(shared, np.where(rng.random(records) < 0.3, tail, rng.integers(0, pictures, records)),
                          picture_of)
    prefix = rng.integers(0, 2**62, pictures)
    size = rng.integers(20_000, 5_000_000, pictures)
    hash_kind = rng.choice(3, pictures, p=[0.45, 0.45, 0.10])  # thumbnail, band, none
    widths = rng.choice([640, 800, 1024, 1200, 4032], pictures)
    heights = widths * rng.choice([3, 2, 9, 4], pictures) // rng.choice([4, 3, 16, 4], pictures)  # common ratios
    phash = rng.integers(-(2**63), 2**63 - 1, pictures, dtype=np.int64)
    kind = rng.choice(4, records, p=[0.85, 0.06, 0.05, 0.04])  # copy, metadata edit, re-save, unrelated
    flips = _random_flips(rng, records, max_bits=4)
    columns = {name: i for i, name in enumerate(IMAGE_COLUMNS)}
    batch: list[list[Any]] = []
    sql = f"INSERT INTO images ({', '.join(IMAGE_COLUMNS)}) VALUES ({', '.join('?' for _ in IMAGE_COLUMNS)})"
    with database.transaction():
        for i in range(records):
            p = int(picture_of[i])
            k = int(kind[i])
            row: list[Any] = [None] * len(IMAGE_COLUMNS)
            row[columns["url"]] = f"http://h{i % hosts}.test/img/{i}.jpg"
            row[columns["page_url"]] = f"http://h{i % hosts}.test/page/{i // 20}"
            row[columns["host"]] = f"h{i % hosts}.test"
            row[columns["status"]] = "ok"
            row[columns["format"]] = "jpeg"
            row[columns["width"]], row[columns["height"]] = int(widths[p]), int(heights[p])
            pfx, sz = int(prefix[p]), int(size[p])
            content = f"{p:064x}"
            hashed = int(phash[p]) if hash_kind[p] < 2 else None
            if k == 1:
                pfx, sz = pfx ^ (i + 1), sz + 100
            elif k == 2:
                pfx, sz, content = pfx ^ (i + 1), sz // 2, f"{p:032x}{i:032x}"
                hashed = None if hashed is None else _signed((hashed & (2**64 - 1)) ^ int(flips[i]))
            elif k == 3:
                pfx, content, hashed = int(rng.integers(0, 2**62)), f"{i:064x}", None
            row[columns["prefix_sha256"]] = f"{pfx:064x}"
            row[columns["image_size"]] = sz
            row[columns["content_sha256"]] = content
            row[columns["phash"]] = hashed
            row[columns["phash_kind"]] = None if hashed is None else KINDS[int(hash_kind[p])]
            for piece_column, piece in zip(("ph0", "ph1", "ph2", "ph3"), phash_pieces(hashed)):
                row[columns[piece_column]] = piece
            row[columns["exif_gps"]] = 0
            for name in ("first_seen", "last_seen"):
                row[columns[name]] = "2026-01-01T00:00:00.000000Z"
            for name in ("first_run", "last_run"):
                row[columns[name]] = "bench"
            batch.append(row)
            if len(batch) == 20_000:
                database.executemany(sql, batch)
                batch = []
        database.executemany(sql, batch)
    return {"records": records, "pictures": pictures, "hosts": hosts}


def _random_flips(rng: np.random.Generator, count: int, max_bits: int) -> np.ndarray:
    masks = np.zeros(count, dtype=np.uint64)
    for _ in range(max_bits):
        bits = rng.integers(0, 64, count).astype(np.uint64)
        masks |= np.where(rng.random(count) < 0.7, np.uint64(1) << bits, np.uint64(0))
    return masks


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def timed(results: dict[str, float], name: str, action: Any) -> Any:
    """Run ``action``; record its wall seconds under ``name`` and its CPU seconds under ``name_cpu``."""
    start, cpu = time.perf_counter(), time.process_time()
    value = action()
    results[name] = round(time.perf_counter() - start, 3)
    results[f"{name}_cpu"] = round(time.process_time() - cpu, 3)
    return value


def match_all(database: Database) -> dict[str, Any]:
    seconds: dict[str, float] = {}
    identical = timed(seconds, "identical_keys", lambda: load.identical_edges(database))
    same = timed(seconds, "content_keys", lambda: load.same_picture_edges(database))
    similar = timed(seconds, "phash_pairs", lambda: load.similar_edges(database, THRESHOLDS))
    skeletons = timed(seconds, "components", lambda: group(identical, same, similar))
    ids = [row_id for skeleton in skeletons for row_id in skeleton.ids]
    rows = timed(seconds, "member_rows", lambda: load.member_rows(database, ids))
    groups = timed(seconds, "build_groups", lambda: build_groups(skeletons, rows))
    timed(seconds, "render_jsonl", lambda: render.jsonl(groups, io.StringIO()))
    total = round(sum(value for name, value in seconds.items() if not name.endswith("_cpu")), 3)
    cpu = round(sum(value for name, value in seconds.items() if name.endswith("_cpu")), 3)
    return {"seconds": seconds, "total_seconds": total, "total_cpu_seconds": cpu, "groups": len(groups), "rows_in_groups": len(ids),
            "levels": {str(level): sum(g.level == level for g in groups) for level in (1, 2, 3)}}


def near_search(database: Database, sample: int = 300) -> dict[str, Any]:
    values = np.unique(as_unsigned([row[0] for row in database.query("SELECT phash FROM images WHERE phash IS NOT NULL")]))
    start = time.perf_counter()
    first, _, _ = near_pairs(values, THRESHOLD)
    mih = time.perf_counter() - start
    queries = values[np.random.default_rng(2).choice(len(values), min(sample, len(values)), replace=False)]
    start = time.perf_counter()
    for query in queries:
        within(values, int(query), THRESHOLD)
    per_query = (time.perf_counter() - start) / len(queries)
    return {"distinct_phashes": len(values), "pairs": len(first), "multi_index_seconds": round(mih, 2),
            "scan_seconds_per_query": round(per_query, 5),
            "scan_all_pairs_seconds_projected": round(per_query * len(values), 1)}


def image_queries(database: Database, count: int = 50) -> dict[str, Any]:
    rows = database.query(
        "SELECT prefix_sha256, image_size, content_sha256, phash, phash_kind FROM images WHERE phash IS NOT NULL "
        f"ORDER BY id LIMIT {count}")
    mih: list[float] = []
    scan: list[float] = []
    for prefix, size, content, phash, kind in rows:
        hex_hash = f"{phash & (2**64 - 1):016x}"
        start = time.perf_counter()
        image_groups(database, Keys.of(prefix, size, content, hex_hash, kind), THRESHOLDS)
        mih.append(time.perf_counter() - start)
        start = time.perf_counter()
        values = as_unsigned([r[0] for r in database.query(
            "SELECT phash FROM images WHERE phash IS NOT NULL AND phash_kind = ?", (kind,))])
        within(values, phash, THRESHOLDS.for_kind(kind))
        scan.append(time.perf_counter() - start)
    return {"queries": len(rows), "multi_index_sql_ms_median": round(1000 * statistics.median(mih), 1),
            "multi_index_sql_ms_max": round(1000 * max(mih), 1),
            "read_all_and_scan_ms_median": round(1000 * statistics.median(scan), 1)}


def markdown(result: dict[str, Any]) -> str:
    m, n, q = result["match"], result["near"], result["image_query"]
    lines = [
        f"# `crawler match` benchmark: {result['generated']['records']:,} synthetic records",
        "",
        f"Machine: {os.cpu_count()} cores, shared (load average {os.getloadavg()[0]:.1f} at the end). Thresholds {THRESHOLDS.thumbnail} bits (thumbnails), {THRESHOLDS.band} (bands). Generated by `bench/match_bench.py` "
        f"({result['generated']['pictures']:,} pictures on {result['generated']['hosts']:,} hosts; "
        f"insert took {result['insert_seconds']} s).",
        "",
        f"## All groups (`find_groups`): {m['total_seconds']} s ({m['total_cpu_seconds']} s of CPU)",
        "",
        "| phase | wall seconds | CPU seconds |", "| --- | ---: | ---: |",
        *[f"| {name} | {value} | {m['seconds'][name + '_cpu']} |" for name, value in m["seconds"].items()
          if not name.endswith("_cpu")],
        "",
        f"{m['groups']:,} groups ({m['levels']}) holding {m['rows_in_groups']:,} rows.",
        "",
        "## Near-duplicate pairs of all distinct pHashes (both kinds together, the larger threshold)",
        "",
        f"{n['distinct_phashes']:,} distinct pHashes, {n['pairs']:,} pairs within {THRESHOLD} bits.",
        "",
        "| method | seconds |", "| --- | ---: |",
        f"| multi-index hashing (numpy) | {n['multi_index_seconds']} |",
        f"| popcount scan, one pass per hash (projected from {n['scan_seconds_per_query'] * 1000:.2f} ms a pass) "
        f"| {n['scan_all_pairs_seconds_projected']} |",
        "",
        "## One `--image` query",
        "",
        "| method | median ms | max ms |", "| --- | ---: | ---: |",
        f"| multi-index hashing in the database (4 indexed 16-bit pieces) | {q['multi_index_sql_ms_median']} "
        f"| {q['multi_index_sql_ms_max']} |",
        f"| read every pHash, then popcount scan | {q['read_all_and_scan_ms_median']} | |",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = result_files.parser(__doc__, "match-bench")
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        database = connect(str(Path(work) / "index.sqlite"))
        try:
            start = time.perf_counter()
            generated = generate(database, args.records)
            insert = round(time.perf_counter() - start, 1)
            result = {"generated": generated, "insert_seconds": insert, "match": match_all(database),
                      "near": near_search(database), "image_query": image_queries(database)}
        finally:
            database.close()
    result_files.write(args.out, result, markdown)


if __name__ == "__main__":
    main()
