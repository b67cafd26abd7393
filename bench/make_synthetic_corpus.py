"""Generate a Stanford-Dogs-sized corpus of JPEG-like files, to time and check the harness.

    python bench/make_synthetic_corpus.py /tmp/synthetic-dogs
    crawler eval /tmp/synthetic-dogs --report bench/results/synthetic-dogs

Layout and sizes mimic the real set: 20,580 files in 120 breed folders
(``n02085620-breed_000/n02085620_0.jpg``), sizes log-normal around 33 KB (the
real ``images.tar`` averages 37 KB per image), so about one in ten files is
under the 20,480-byte minimum. Each file is a real JPEG header made by Pillow
(varied dimensions and quality tables, half with an EXIF block) followed by
random bytes and an end-of-image marker: the harness only hashes bytes, so
random scan data costs the same as real scan data. Deterministic for a seed.

Planted, all at least 20,480 bytes so that every one is evaluated:
- ``--duplicates`` byte-identical copies of distinct files in other folders;
- ``--near-pairs`` pairs sharing their first 10,240 bytes and their size,
  and as many sharing their first 10,240 bytes with different sizes.
The expected counts are written to ``OUT/expected.json`` (itself the one
non-image file of the corpus). The sample method is not predicted: its
128 bytes often land in header bytes that many JPEGs share (standard Huffman
tables), and the short prefixes of the sweep collide on the shared headers.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
from pathlib import Path

from PIL import Image

PREFIX, MIN_SIZE = 10240, 20480


def jpeg_headers(rng: random.Random, count: int) -> list[bytes]:
    """Real JPEG headers up to the start of scan data, from Pillow."""
    headers = []
    for index in range(count):
        size = (rng.randrange(200, 500), rng.randrange(150, 500))
        image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
        exif = Image.Exif()
        if index % 2:
            exif.update({0x010F: "SyntheticCam", 0x0110: f"Model {index}", 0x0132: "2011:10:02 12:00:00"})
        out = io.BytesIO()
        image.save(out, "JPEG", quality=rng.randrange(60, 96), exif=exif.tobytes())
        data = out.getvalue()
        sos = data.index(b"\xff\xda")
        headers.append(data[: sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")])
    return headers


def file_sizes(rng: random.Random, count: int) -> list[int]:
    return [min(500_000, max(4_000, int(rng.lognormvariate(math.log(33_000), 0.4)))) for _ in range(count)]


def jpeg_like(rng: random.Random, header: bytes, size: int) -> bytes:
    return header + rng.randbytes(max(0, size - len(header) - 2)) + b"\xff\xd9"


def build(out: Path, files: int, folders: int, duplicates: int, near_pairs: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    headers = jpeg_headers(rng, 32)
    names = [f"n{2085620 + f:08d}-breed_{f:03d}" for f in range(folders)]
    for name in names:
        (out / name).mkdir(parents=True, exist_ok=True)
    paths = [out / names[i % folders] / f"{names[i % folders][:9]}_{i}.jpg" for i in range(files)]
    sizes = file_sizes(rng, files)
    planted = 4 * near_pairs + 2 * duplicates
    for i in range(planted):  # planted files must be evaluated: at least the minimum size
        sizes[i] = max(sizes[i], MIN_SIZE + 1000)
    contents = [jpeg_like(rng, headers[rng.randrange(len(headers))], size) for size in sizes]
    for pair in range(2 * near_pairs):  # b shares a's first 10,240 bytes; same size for the first half
        a, b = 2 * pair, 2 * pair + 1
        if pair < near_pairs:
            sizes[b] = sizes[a]
        elif sizes[b] == sizes[a]:
            sizes[b] += 1
        contents[b] = contents[a][:PREFIX] + rng.randbytes(sizes[b] - PREFIX)
    first_copy = 4 * near_pairs
    for k in range(duplicates):  # a copy of file j lands in another folder
        j, copy = first_copy + 2 * k, first_copy + 2 * k + 1
        contents[copy] = contents[j]
        paths[copy] = paths[copy].with_name(f"copy_of_{paths[j].stem}.jpg")
    for path, data in zip(paths, contents, strict=True):
        path.write_bytes(data)
    evaluated = sum(1 for data in contents if len(data) >= MIN_SIZE)
    expected = {  # expected.json itself is the one non-image file of the corpus
        "files_seen": files + 1, "images_evaluated": evaluated, "excluded_under_min_size": files - evaluated,
        "non_image": 1, "true_pairs": duplicates, "prefix_sha256_10240_fp": 2 * near_pairs,
        "prefix_sha256_10240+size_fp": near_pairs,
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to create (put it outside the repository)")
    parser.add_argument("--files", type=int, default=20580)
    parser.add_argument("--folders", type=int, default=120)
    parser.add_argument("--duplicates", type=int, default=178)
    parser.add_argument("--near-pairs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2011)
    args = parser.parse_args()
    expected = build(args.out, args.files, args.folders, args.duplicates, args.near_pairs, args.seed)
    print(json.dumps(expected, indent=2))


if __name__ == "__main__":
    main()
