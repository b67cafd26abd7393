"""The tail every benchmark script shares: its ``--out`` option and writing its result files.

A script's result goes to ``OUT.json`` (the figures) and ``OUT.md`` (the
report made from them, also printed), ``OUT`` defaulting to a name of its own
in ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def parser(doc: str, name: str, *, whole_doc: bool = False) -> argparse.ArgumentParser:
    """An argument parser with ``--out`` (default ``bench/results/NAME``), described by ``doc``'s first paragraph or all of it."""
    result = argparse.ArgumentParser(description=doc if whole_doc else doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    result.add_argument("--out", type=Path, default=RESULTS / name, help="write OUT.json and OUT.md (default: %(default)s)")
    return result


def write(out: Path, result: dict[str, Any], markdown: Callable[[dict[str, Any]], str]) -> None:
    """Write ``result`` to OUT.json and its Markdown report to OUT.md, and print the report."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    report = markdown(result)
    out.with_suffix(".md").write_text(report)
    print(report)
