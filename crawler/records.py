"""Fetched bytes and headers -> an :class:`ImageRecord`. Pure: no I/O.

Decides the record's status: an answer that is HTML is not an image; an image
under the minimum size is skipped; a server that sent fewer bytes than the
prefix of a larger image is an error (the prefix hash would be wrong);
everything else is fingerprinted.
"""

from __future__ import annotations

from crawler.errors import FetchError
from crawler.fetch import ImageResponse
from crawler.fingerprint import HASHED_PREFIX_BYTES, fingerprint
from crawler.follow_up import FollowUps
from crawler.formats.sniff import answers_html
from crawler.headers import normalize_etag
from crawler.models import ImageRecord
from crawler.settings import FingerprintSettings
from crawler.urls import redact_url


def error_record(url: str, page_url: str | None, error: FetchError) -> ImageRecord:
    return ImageRecord(
        url=redact_url(url),
        page_url=_redacted(page_url),
        status="error",
        error=error.message,
        error_kind=error.kind,
    )


def image_record(
    url: str,
    page_url: str | None,
    response: ImageResponse,
    settings: FingerprintSettings,
    follow_ups: FollowUps | None = None,
) -> ImageRecord:
    """The record of an image from its prefix answer and the ranges fetched after it."""
    base = ImageRecord(
        url=redact_url(url),
        final_url=redact_url(response.url) if response.url != url else None,
        page_url=_redacted(page_url),
        status="ok",
        image_size=response.total_size,
        etag=normalize_etag(response.etag),
        etag_raw=response.etag,
        last_modified=response.last_modified,
        content_type=response.content_type,
        bytes_fetched=response.bytes_fetched + (follow_ups.bytes_fetched if follow_ups else 0),
        range_requests=follow_ups.requests if follow_ups else 0,
        follow_up_error=follow_ups.error.message if follow_ups and follow_ups.error else None,
        via_tor=response.via_tor,
        tls_verified=response.tls_verified,
    )
    problem = _problem(response, settings)
    if problem is not None:
        status, kind, message = problem
        return base.model_copy(update={"status": status, "error_kind": kind, "error": message})
    layout = follow_ups.layout if follow_ups else None
    fields = fingerprint(response.data, settings.sample_bytes, layout, settings.content_bytes)
    return base.model_copy(update=vars(fields))


def _redacted(url: str | None) -> str | None:
    return None if url is None else redact_url(url)


def fingerprintable(response: ImageResponse, settings: FingerprintSettings) -> bool:
    """Whether the answer will be fingerprinted (and so deserves follow-up ranges)."""
    return _problem(response, settings) is None


def _problem(response: ImageResponse, settings: FingerprintSettings) -> tuple[str, str, str] | None:
    """(status, error_kind, message) when the answer is not fingerprinted."""
    data, total = response.data, response.total_size
    # No bytes at all is an empty file (a 416 with its HTML error page), not HTML.
    if data and answers_html(data, response.content_type):
        return ("error", "not_image", f"answered with {response.content_type or 'HTML'}, not an image")
    if total is not None and total < settings.min_image_bytes:
        return ("skipped", "too_small", f"image is {total} bytes, under the {settings.min_image_bytes}-byte minimum")
    if not data:
        return ("error", "empty", "the server sent no bytes")
    wanted = HASHED_PREFIX_BYTES if total is None else min(total, HASHED_PREFIX_BYTES)
    if len(data) < wanted:
        return ("error", "short_read", f"got {len(data)} of the first {wanted} bytes")
    return None
