"""A small generated corpus with planted duplicates and near-collisions, for the harness tests.

Every file is built on purpose, so the counts each method must report are
known by construction (see ``EXPECTED`` and the comments next to each file),
not computed by the code under test. Bodies are seeded random bytes, so no
two files share bytes unless planted.
"""

from __future__ import annotations

import io
import random
import tarfile
from pathlib import Path
from typing import Literal

JFIF = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"  # 20 bytes
PNG = b"\x89PNG\r\n\x1a\n"


def corpus_files(seed: int = 7) -> dict[str, bytes]:
    """Relative path -> content of every file of the corpus."""
    rng = random.Random(seed)

    def jpeg(size: int) -> bytes:
        return JFIF + rng.randbytes(size - len(JFIF))

    files: dict[str, bytes] = {}
    for i in range(6):  # 6 unique JPEGs, 1 unique PNG, 1 JPEG of exactly the minimum size
        files[f"alpha/unique_{i}.jpg"] = jpeg(30_000 + 1_000 * i)
    files["beta/unique.png"] = PNG + rng.randbytes(30_000)
    files["gamma/boundary_20480.jpg"] = jpeg(20_480)
    x, y = jpeg(40_000), jpeg(50_000)  # true duplicates across folders: 1 pair + 3 pairs
    files["alpha/dup_x.jpg"] = files["beta/dup_x_copy.jpg"] = x
    files["alpha/dup_y.jpg"] = files["beta/dup_y.jpg"] = files["gamma/deep/dup_y.jpg"] = y
    shared = jpeg(10_240)  # first 10,240 bytes equal, same total size: defeats prefix and prefix+size
    files["alpha/near_same_size_a.jpg"] = shared + rng.randbytes(30_000)
    files["beta/near_same_size_b.jpg"] = shared + rng.randbytes(30_000)
    shared = jpeg(10_240)  # first 10,240 bytes equal, sizes differ: defeats prefix only
    files["alpha/near_other_size_a.jpg"] = shared + rng.randbytes(25_000)
    files["gamma/near_other_size_b.jpg"] = shared + rng.randbytes(26_000)
    shared = jpeg(1_024)  # same header and top rows: first 1,024 bytes equal
    files["beta/top_rows_a.jpg"] = shared + rng.randbytes(30_000)
    files["gamma/top_rows_b.jpg"] = shared + rng.randbytes(31_000)
    shared = jpeg(4_096)  # three files with their first 4,096 bytes equal: 3 pairs
    for name, tail in (("a", 26_000), ("b", 28_000), ("c", 28_000)):
        files[f"gamma/deep/four_k_{name}.jpg"] = shared + rng.randbytes(tail)
    # Zero-filled prefixes differing at byte 3: their 128-byte samples are all zeros.
    files["alpha/zeros_a.jpg"] = b"\xff\xd8\xff\x01" + bytes(10_236) + rng.randbytes(20_000)
    files["beta/zeros_b.jpg"] = b"\xff\xd8\xff\x02" + bytes(10_236) + rng.randbytes(20_000)
    files["alpha/small_5000.jpg"] = jpeg(5_000)  # under the 20,480-byte minimum: 4 files
    files["beta/small_20479.jpg"] = jpeg(20_479)
    files["alpha/small_dup.jpg"] = files["gamma/small_dup.jpg"] = jpeg(10_000)
    files["alpha/readme.txt"] = files["beta/readme.txt"] = b"notes\n" * 5_000  # non-images: 3 files
    files["gamma/page.html"] = b"<!doctype html><html>" + b"x" * 30_000
    files["gamma/empty.jpg"] = b""
    return files


# What the harness must report on this corpus, by construction.
IMAGES = 24
TRUE_PAIRS = 4
NON_DUPLICATE_PAIRS = IMAGES * (IMAGES - 1) // 2 - TRUE_PAIRS  # 272
EXPECTED_COUNTS = {
    "files_seen": 32,
    "images_evaluated": IMAGES,
    "excluded_under_min_size": 4,
    "non_image": 3,
    "empty": 1,
    "unreadable": 0,
    "skipped": 0,
}
# method -> (predicted pairs, true positives, false positives, false negatives)
EXPECTED_METHODS = {
    "prefix_sha256_10240": (6, 4, 2, 0),  # the two near_* pairs
    "prefix_sha256_10240+size": (5, 4, 1, 0),  # near_same_size only
    "sample_128": (7, 4, 3, 0),  # near_* pairs (same prefix, same sample) and the zeros pair
    "prefix_sha256_256": (10, 4, 6, 0),  # + top_rows (1) + four_k (3)
    "prefix_sha256_512": (10, 4, 6, 0),
    "prefix_sha256_1024": (10, 4, 6, 0),
    "prefix_sha256_2048": (9, 4, 5, 0),  # top_rows differ after 1,024 bytes
    "prefix_sha256_4096": (9, 4, 5, 0),
    "prefix_sha256_8192": (6, 4, 2, 0),  # four_k differ after 4,096 bytes
}
EXPECTED_FP_GROUPS = {
    "prefix_sha256_10240": [
        ["alpha/near_other_size_a.jpg", "gamma/near_other_size_b.jpg"],
        ["alpha/near_same_size_a.jpg", "beta/near_same_size_b.jpg"],
    ],
    "prefix_sha256_10240+size": [["alpha/near_same_size_a.jpg", "beta/near_same_size_b.jpg"]],
}
EXPECTED_TRUE_GROUPS = [
    ["alpha/dup_x.jpg", "beta/dup_x_copy.jpg"],
    ["alpha/dup_y.jpg", "beta/dup_y.jpg", "gamma/deep/dup_y.jpg"],
]


def write_corpus(root: Path, seed: int = 7) -> Path:
    """The corpus as a directory tree under ``root``."""
    for relative, data in corpus_files(seed).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def write_tar(path: Path, mode: Literal["w", "w:gz"] = "w", seed: int = 7) -> Path:
    """The same corpus as a tar archive (``mode`` "w:gz" for a compressed one)."""
    with tarfile.open(path, mode) as archive:
        for relative, data in sorted(corpus_files(seed).items()):
            info = tarfile.TarInfo(relative)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path
