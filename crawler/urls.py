"""The input list: one URL per line, ``#`` comments and blank lines allowed.

A line that is not an http(s) URL is reported with its line number and
skipped; duplicates (after normalisation) are kept once, in first-seen order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import idna

from crawler.errors import InputError


@dataclass(frozen=True)
class Rejected:
    line: int
    text: str
    reason: str


@dataclass
class UrlList:
    urls: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0


def normalize_url(text: str) -> str:
    """Canonical form of an absolute http(s) URL; ValueError says what is wrong.

    Scheme and host are lower-cased, an IDN host becomes its ASCII (punycode)
    form and the fragment is dropped, so equal URLs compare equal. Punycode
    follows IDNA 2008 (UTS 46), as httpx and browsers do: Python's own
    ``idna`` codec is IDNA 2003, which turns ``faß.de`` into ``fass.de``,
    another domain.
    """
    parts = urlsplit(text.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL (scheme {scheme!r})" if scheme else "not an absolute URL")
    host = parts.hostname
    if not host:
        raise ValueError("URL has no host")
    if any(c.isspace() for c in text.strip()):
        raise ValueError("URL contains white space")
    try:
        port = parts.port
        ascii_host = idna.encode(host, uts46=True).decode("ascii") if not host.isascii() else host
    except (ValueError, UnicodeError) as exc:
        raise ValueError(f"bad host or port: {exc}") from None
    if ":" in ascii_host:  # IPv6 literal
        ascii_host = f"[{ascii_host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if userinfo else "") + ascii_host + (f":{port}" if port is not None else "")
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


_USERINFO = re.compile(r"(?<=//)[^/?#\s]*@")


def redact_url(url: str) -> str:
    """``url`` without its userinfo (``user:pass@``): what records, logs and messages may show.

    Works for any URL with an authority (http, postgresql...); text that is
    not a URL comes back unchanged.
    """
    return _USERINFO.sub("", url, count=1)


def redact_text(text: str) -> str:
    """A message with the userinfo of every URL in it removed (library messages quote URLs)."""
    return _USERINFO.sub("", text)


def parse_url_lines(lines: list[str]) -> UrlList:
    result = UrlList()
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        try:
            url = normalize_url(text)
        except ValueError as exc:
            result.rejected.append(Rejected(number, text, str(exc)))
            continue
        if url in seen:
            result.duplicates += 1
        else:
            seen.add(url)
            result.urls.append(url)
    return result


def read_url_list(path: Path) -> UrlList:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read URL list {path}: {exc.strerror}") from None
    return parse_url_lines(text.splitlines())
