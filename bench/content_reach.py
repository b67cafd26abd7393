"""How much of a picture does ``content_sha256`` cover? Baseline JPEGs of a folder, per K.

    python bench/content_reach.py ../shared/corpus [--k 256,1024,4096,16384]

A baseline JPEG codes its picture top to bottom, so the first K bytes of the
scan stand for its top rows only: two different pictures whose top rows code
to the same bytes (same tables, same pixels: a white or black band, a shared
header) get the same content hash. For every baseline JPEG of the folder
whose content hash the crawler's adaptive loop obtains, this prints the
share of the scan that K bytes are, and the pixel rows that share stands for
(share x height: bytes per row taken as even, so read it as an estimate).
Progressive JPEGs are left out: their first scan covers the whole picture.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from crawler.fingerprint.plan import RangePolicy, replay


def reach(path: Path, k: int) -> tuple[float, float] | None:
    """(share of the scan, pixel rows) that K bytes cover, or None when not a baseline JPEG."""
    data = path.read_bytes()
    layout = replay(data, RangePolicy()).layout
    if layout.format != "jpeg" or layout.progressive is not False or layout.content_sha256 is None:
        return None
    if layout.image_data_offset is None or layout.height is None:
        return None
    share = min(1.0, k / (len(data) - layout.image_data_offset))
    return share, share * layout.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--k", default="256,1024,4096,16384", help="K values, comma-separated")
    args = parser.parse_args()
    files = sorted(p for p in args.folder.rglob("*") if p.is_file())
    print("| K bytes | Baseline JPEGs | Median share of the scan | Median pixel rows | Fewest rows |")
    print("|---:|---:|---:|---:|---:|")
    for k in (int(part) for part in args.k.split(",")):
        found = [r for r in (reach(path, k) for path in files) if r is not None]
        shares, rows = [s for s, _ in found], [r for _, r in found]
        print(f"| {k:,} | {len(found)} | {statistics.median(shares):.2%} | {statistics.median(rows):.0f} "
              f"| {min(rows):.1f} |")


if __name__ == "__main__":
    main()
