"""Sites for a server to serve (corpus images, pages), and the check that a record fingerprints what was served.

The integration tests (plain crawl, Tor routing, faults) serve real images
and compare each record with the bytes served; the comparison is computed
here with hashlib, independently of the crawler's code.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PREFIX = 10240  # fixed by the record's field name sha256_first_10240_bytes

# The example site the crawl integration tests serve (through nginx, and as onion services)
IMAGES = {  # served name -> corpus file
    "img/canon.jpg": "jpeg/FujiFilm_FinePixS1Pro_1.jpg",
    "img/nikon.jpg": "jpeg/Pentax_ist_D.jpg",
    "img/sony.jpg": "jpeg/Sony_Cybershot_3.jpg",
    "img/small.jpg": "jpeg/Issue_609.jpg",  # 12,898 bytes: under the minimum
    "img/lazy.png": "png/Issue_204_dotnet.png",
    "img/lazyset.jpg": "jpeg/FujiFilm_DS-7_3.jpg",
    "img/source.webp": "webp/HTC_Desire.webp",
    "img/og.jpg": "jpeg/Canon_PowerShot_S40_2.jpg",
    "img/linked.tif": "tiff/Issue_16.tif",
    "deep/dir/based.jpg": "jpeg/Olympus_C860L.jpg",
    "direct.jpg": "jpeg/Ricoh_DC-3Z_normal_res.jpg",
}

INDEX = """<!doctype html><html><head><title>t</title>
<meta property="og:image" content="/img/og.jpg"></head><body>
<img src="img/canon.jpg" alt="plain src">
<img src="img/canon.jpg#again" alt="duplicate with a fragment">
<img srcset="img/nikon.jpg 1x, img/sony.jpg 2x" alt="srcset">
<picture><source srcset="img/source.webp" type="image/webp"><img src="img/small.jpg"></picture>
<img data-src="img/lazy.png" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<img data-srcset="img/lazyset.jpg 800w">
<a href="img/linked.tif">full size</a>
<img src="img/missing.jpg">
</body></html>"""

BASED = '<html><head><base href="/deep/dir/"></head><body><img src="based.jpg"></body></html>'


def build_site(root: Path, corpus: Path, images: Mapping[str, str], pages: Mapping[str, str]) -> Path:
    """``root`` holding ``images`` (served path -> corpus file) and ``pages`` (served path -> HTML)."""
    for served, source in images.items():
        (root / served).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / source, root / served)
    for served, html in pages.items():
        (root / served).parent.mkdir(parents=True, exist_ok=True)
        (root / served).write_text(html)
    return root


def html_page(*srcs: str, filler: int = 0) -> bytes:
    """An HTML page showing these images, padded with ``filler`` spaces before its end."""
    tags = "".join(f'<img src="{src}">\n' for src in srcs)
    return f"<!doctype html><html><body>{tags}".encode() + b" " * filler + b"</body></html>"


def assert_fingerprinted(record: Mapping[str, Any], data: bytes, size: int | None) -> None:
    """``record`` is ok and fingerprints ``data``: its size (None: unknown), prefix hash and sample."""
    assert (record["status"], record["error_kind"], record["image_size"]) == ("ok", None, size), record
    assert record["sha256_first_10240_bytes"] == hashlib.sha256(data[:PREFIX]).hexdigest()
    offset = record["sample_offset"]
    assert record["random_128_bytes_sample_start"] == data[offset : offset + 128].hex()


def expected_fields(path: Path) -> dict[str, object]:
    """What a record says beyond the fingerprint: the sample offset by its documented rule, nginx's ETag."""
    digest = hashlib.sha256(path.read_bytes()[:10240]).hexdigest()
    stat = path.stat()
    return {
        "sample_offset": int(digest[:16], 16) % (10240 - 128 + 1),
        "etag": f"{int(stat.st_mtime):x}-{stat.st_size:x}",
        "etag_raw": f'"{int(stat.st_mtime):x}-{stat.st_size:x}"',
    }
