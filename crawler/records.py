"""Fetched bytes and headers -> an :class:`ImageRecord`, built once and complete. Pure: no I/O.

Decides the record's status: an answer that is HTML is not an image; an image
under the minimum size is skipped; a server that sent fewer bytes than the
prefix of a larger image is an error (the prefix hash would be wrong);
everything else is fingerprinted. :func:`assess` says which, once per image,
before the follow-up ranges are fetched (only a fingerprinted image deserves
them); :func:`image_record` then builds the record from the answer, the
assessment and what the follow-ups fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.answers import ImageResponse
from crawler.errors import FetchError
from crawler.fingerprint.compute import fingerprint
from crawler.fingerprint.plan import Fetched
from crawler.fingerprint.sniff import answers_html
from crawler.models import HASHED_PREFIX_BYTES, ImageRecord, Status
from crawler.redact import redact_url
from crawler.settings import FingerprintSettings


@dataclass(frozen=True)
class Problem:
    """Why an answer is not fingerprinted."""

    status: Status
    kind: str
    message: str


def error_record(url: str, page_url: str | None, error: FetchError) -> ImageRecord:
    return ImageRecord(
        url=redact_url(url),
        page_url=_redacted(page_url),
        status="error",
        error=error.message,
        error_kind=error.kind,
    )


def assess(response: ImageResponse, settings: FingerprintSettings) -> Problem | None:
    """Why the answer will not be fingerprinted; None when it will (and deserves follow-up ranges)."""
    data, total = response.data, response.total_size
    # No bytes at all is an empty file (a 416 with its HTML error page), not HTML.
    if data and answers_html(data, response.content_type):
        return Problem("error", "not_image", f"answered with {response.content_type or 'HTML'}, not an image")
    if total is not None and total < settings.min_image_bytes:
        return Problem("skipped", "too_small", f"image is {total} bytes, under the {settings.min_image_bytes}-byte minimum")
    if not data:
        return Problem("error", "empty", "the server sent no bytes")
    wanted = HASHED_PREFIX_BYTES if total is None else min(total, HASHED_PREFIX_BYTES)
    if len(data) < wanted:
        return Problem("error", "short_read", f"got {len(data)} of the first {wanted} bytes")
    return None


def image_record(
    url: str,
    page_url: str | None,
    response: ImageResponse,
    settings: FingerprintSettings,
    problem: Problem | None,
    fetched: Fetched | None = None,
    thumbnail_file: str | None = None,
) -> ImageRecord:
    """The record of an image from its prefix answer, its assessment and the ranges fetched after it.

    ``problem`` is :func:`assess`'s verdict; ``fetched`` is what the follow-up
    ranges added, None when none were asked.
    """
    if problem is not None:
        verdict: dict[str, object] = {"status": problem.status, "error_kind": problem.kind, "error": problem.message}
    else:
        fields = fingerprint(response.data, settings.sample_bytes, fetched.layout if fetched else None, settings.content_bytes)
        verdict = {"status": "ok", **vars(fields)}
    return ImageRecord.model_validate(
        {
            "url": redact_url(url),
            "final_url": redact_url(response.url) if response.url != url else None,
            "page_url": _redacted(page_url),
            "image_size": response.total_size,
            "etag": normalize_etag(response.etag),
            "etag_raw": response.etag,
            "last_modified": response.last_modified,
            "content_type": response.content_type,
            "bytes_fetched": fetched.bytes_fetched if fetched else response.bytes_fetched,
            "range_requests": fetched.requests if fetched else 0,
            "follow_up_error": fetched.error if fetched else None,
            "thumbnail_file": thumbnail_file,
            "range_ignored": response.range_ignored,
            "content_encoding": response.content_encoding,
            "via_tor": response.via_tor,
            "tls_verified": response.tls_verified,
            **verdict,
        }
    )


def seen_again(first: ImageRecord, page_url: str | None) -> ImageRecord:
    """The record of an image already fetched in this run, for another page that shows it.

    It carries the first record's findings and says that nothing was read
    for it: ``bytes_fetched`` and ``range_requests`` 0.
    """
    findings = first.model_dump(exclude={"page_url", "bytes_fetched", "range_requests"})
    return ImageRecord.model_validate({**findings, "page_url": _redacted(page_url), "bytes_fetched": 0, "range_requests": 0})


def _redacted(url: str | None) -> str | None:
    return None if url is None else redact_url(url)


def normalize_etag(value: str | None) -> str | None:
    """ETag without the weak marker and quotes: ``W/"abc"`` -> ``abc``."""
    if value is None:
        return None
    tag = value.strip()
    if tag[:2].upper() == "W/":
        tag = tag[2:]
    return tag.strip().strip('"') or None
