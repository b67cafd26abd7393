"""What a start of ``crawler`` costs: heavy libraries are imported only when needed.

``crawler crawl`` pays every import at each start (0.27 s in all); NumPy and
the eval harness, bs4 and SciPy (through imagehash) would add about 0.4 s.
Workers of a multi-process crawl get imagehash from their parent instead.
"""

from __future__ import annotations

import subprocess
import sys

from tests.support.cli_process import child_env

HEAVY = ("numpy", "scipy", "bs4", "imagehash")


def loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=child_env(), check=True)
    return result.stdout.split()


def test_the_cli_starts_without_numpy_scipy_or_bs4() -> None:
    assert loaded_after("import crawler.cli; crawler.cli._parser()") == []


def test_preload_imports_imagehash_for_the_workers_to_share() -> None:
    assert "imagehash" in loaded_after("from crawler.fingerprint import perceptual; perceptual.preload()")
