from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawler.errors import FetchError
from crawler.net.headers import content_range_total, parse_retry_after
from crawler.records import normalize_etag


@pytest.mark.parametrize(
    ("value", "total"),
    [("bytes 0-10239/51204", 51204), ("bytes 0-10239/*", None), ("BYTES 0-99 / 100", 100), (None, None)],
)
def test_content_range_total(value: str | None, total: int | None) -> None:
    assert content_range_total(value, expect_start=0) == total


def test_unsatisfied_range_gives_the_total() -> None:
    assert content_range_total("bytes */0", expect_start=None) == 0
    assert content_range_total("bytes 20480-30719/51204", expect_start=20480) == 51204


@pytest.mark.parametrize("value", ["bytes 5-10239/51204", "items 0-1/2", "bytes 0-10239"])
def test_bad_content_range(value: str) -> None:
    with pytest.raises(FetchError) as caught:
        content_range_total(value, expect_start=0)
    assert caught.value.kind == "bad_range"


def test_retry_after_seconds_and_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [('"abc"', "abc"), ('W/"abc-12"', "abc-12"), ('w/"x"', "x"), ("bare", "bare"), ('""', None), (None, None)],
)
def test_normalize_etag(raw: str | None, normalized: str | None) -> None:
    assert normalize_etag(raw) == normalized
