"""Every form of a result, drawn from its document (:mod:`crawler.evaluation.document`). Pure.

- :func:`to_json`: the JSON file, the document itself;
- :func:`to_markdown`: the Markdown report (:mod:`.markdown`);
- :func:`show`: the terminal (:mod:`.terminal`).

The Markdown report and the terminal take their tables and summary lines
from :mod:`.tables`, formatted once, so no two forms disagree.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from crawler.evaluation.render.markdown import to_markdown
from crawler.evaluation.render.terminal import show

if TYPE_CHECKING:
    from crawler.evaluation.document import Document

__all__ = ["show", "to_json", "to_markdown"]


def to_json(document: Document) -> str:
    """The result file: the document, indented, non-ASCII characters as they are."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
