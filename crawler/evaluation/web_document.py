"""The web perceptual fingerprint's score in the JSON result (:mod:`web_score` computes it). Pure.

Apart from :mod:`web_score`, which pulls in NumPy: the document's types are
read by ``crawler crawl`` too, which does not need NumPy at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from crawler.evaluation.web_score import WebEvaluation


class WebRow(TypedDict):
    files: int
    hashed: int
    matched: int | None
    recall: float | None
    bytes_median: float | None
    bytes_p90: int | None


class WebPair(TypedDict):
    first: str
    second: str
    distance: int


class WebResult(TypedDict):
    threshold: int
    originals_with_thumbnail_left_out: int
    kinds: dict[str, WebRow]
    different_picture_pairs: int
    false_positives: int
    nearest_different_distance: int | None
    false_positive_pairs: list[WebPair]


def web_document(web: WebEvaluation) -> WebResult:
    """The JSON form of the web score."""
    return {
        "threshold": web.threshold,
        "originals_with_thumbnail_left_out": web.with_thumbnail,
        "kinds": {
            row.kind: {
                "files": row.files,
                "hashed": row.hashed,
                "matched": row.matched,
                "recall": row.recall,
                "bytes_median": row.bytes_median,
                "bytes_p90": row.bytes_p90,
            }
            for row in web.rows
        },
        "different_picture_pairs": web.different_pairs,
        "false_positives": web.false_positives,
        "nearest_different_distance": web.nearest_different,
        "false_positive_pairs": [
            {"first": first, "second": second, "distance": bits} for first, second, bits in web.false_positive_pairs
        ],
    }
