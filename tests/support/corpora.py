"""Where the test images are: the shared corpus beside the checkout, or the samples committed here.

The full corpus (``../shared/corpus``: 71 camera and phone images) is not
part of a fresh clone. The samples under ``tests/samples`` are a few of its
files, chosen to cover every format and case the tests name, so the suite
passes without it: tests read :data:`CORPUS`, whichever is there. A test
whose claim needs the whole corpus calls :func:`full_corpus`, which skips it
with one line saying where to put the corpus.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
SHARED_DOGS = REPO.parent / "shared" / "stanford-dogs-partial" / "Images"  # web-size JPEGs, no thumbnail
SAMPLES = REPO / "tests" / "samples"
CORPUS = SHARED_CORPUS if SHARED_CORPUS.is_dir() else SAMPLES
IMAGE_SUFFIXES = frozenset({".jpg", ".png", ".tif", ".heic", ".webp"})


def full_corpus() -> Path:
    """The whole shared corpus; skips the calling test when it is not beside the checkout."""
    if CORPUS != SHARED_CORPUS:
        pytest.skip("needs the full sample corpus at ../shared/corpus beside the checkout")
    return SHARED_CORPUS


def images(folder: str = "") -> list[Path]:
    """The corpus's images (under ``folder``, e.g. ``"jpeg"``), sorted; fails loudly when there are none.

    Tests parametrize over this list: an empty one would silently test nothing.
    """
    found = sorted(p for p in (CORPUS / folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    assert found, f"no images under {CORPUS / folder}"
    return found
