from __future__ import annotations

from pathlib import Path

import pytest

from crawler.pages.urls import normalize_url, parse_url_lines, read_url_list
from crawler.redact import redact_text, redact_url


def test_comments_blanks_junk_and_duplicates() -> None:
    result = parse_url_lines([
        "# comment", "", "   ", "http://a.test/x", "ftp://a.test/", "junk", "HTTP://A.test/x#frag",
        "  http://b.test/  ", "mailto:x@y.z", "javascript:alert(1)", "http://",
    ])
    assert result.urls == ["http://a.test/x", "http://b.test/"]
    assert [(r.line, r.text) for r in result.rejected] == [
        (5, "ftp://a.test/"), (6, "junk"), (9, "mailto:x@y.z"), (10, "javascript:alert(1)"), (11, "http://"),
    ]
    assert result.duplicates == 1
    assert "scheme 'ftp'" in result.rejected[0].reason


def test_ten_thousand_duplicate_lines_are_one_url() -> None:
    result = parse_url_lines(["http://a.test/page"] * 10_000)
    assert (result.urls, result.duplicates) == (["http://a.test/page"], 9_999)


def test_idn_host_becomes_punycode_and_dedupes() -> None:
    assert normalize_url("https://bücher.example/ä?q=1") == "https://xn--bcher-kva.example/ä?q=1"
    result = parse_url_lines(["https://bücher.example/", "https://xn--bcher-kva.example/"])
    assert len(result.urls) == 1


@pytest.mark.parametrize("text", ["http://a.test:99999/", "http://a b.test/", "https:///path"])
def test_bad_urls_raise_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError):
        normalize_url(text)


def test_onion_and_ipv6_hosts_are_kept() -> None:
    onion = "http://" + "a" * 56 + ".onion/"
    assert normalize_url(onion) == onion
    assert normalize_url("http://[::1]:8080/x") == "http://[::1]:8080/x"


def test_read_url_list_survives_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_bytes(b"http://a.test/\n\xff\xfe garbage\nhttp://b.test/\r\n")
    result = read_url_list(path)
    assert result.urls == ["http://a.test/", "http://b.test/"]
    assert [r.line for r in result.rejected] == [2]


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("http://agent:s3cret@a.test/x?next=b@c", "http://a.test/x?next=b@c"),
        ("https://token@a.test:8443/", "https://a.test:8443/"),
        ("http://u:p@ss@a.test/", "http://a.test/"),  # an unencoded @ in the password: the last one ends it
        ("postgresql://crawler:pw@db.internal:5432/index", "postgresql://db.internal:5432/index"),
        ("http://a.test/path@with-at", "http://a.test/path@with-at"),
    ],
)
def test_redact_url_drops_credentials_only(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


def test_redact_text_cleans_every_url_in_a_message() -> None:
    message = "cannot connect to postgresql://me:pw@db/x after http://a:b@c.test/ failed"
    assert redact_text(message) == "cannot connect to postgresql://db/x after http://c.test/ failed"
