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
