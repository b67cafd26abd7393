"""Pure parsers for the HTTP headers the fingerprint depends on."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from crawler.errors import FetchError

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)\s*/\s*(\d+|\*)\s*$", re.IGNORECASE)


def content_range_total(value: str | None, expect_start: int | None) -> int | None:
    """Total size from ``Content-Range: bytes 0-10239/TOTAL`` (None for ``/*``).

    A 206 whose range does not start where it was asked to (``expect_start``)
    would make the prefix hash a hash of something else: that server is
    lying, and it is an error. ``None`` checks nothing (a 416's ``*/TOTAL``).
    """
    if value is None:
        return None
    match = _CONTENT_RANGE.match(value)
    if match is None:
        raise FetchError("bad_range", f"unparsable Content-Range {value!r}")
    start, _end, total = match.groups()
    if expect_start is not None and start != str(expect_start):
        raise FetchError("bad_range", f"asked for bytes from {expect_start}, got Content-Range {value!r}")
    return None if total == "*" else int(total)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())

