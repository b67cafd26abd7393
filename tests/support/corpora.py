"""Where the test images are: the shared corpus beside the checkout, or the samples committed here.

The full corpus (``../shared/corpus``: 70 camera and phone images) is not
part of a fresh clone. The samples under ``tests/samples`` are a few of its
files, chosen to cover every format and case the tests name, so the core
suite passes without it; tests that need the whole corpus skip with one line
saying where to put it. CI has it and runs them all.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
