"""The input list: one URL per line, ``#`` comments and blank lines allowed.

A line that is not an http(s) URL is reported with its line number and
skipped; duplicates (after normalisation) are kept once, in first-seen order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import idna

from crawler.errors import InputError

_SNIFF_BYTES = 65536  # a binary file shows itself early; a huge text list is not read twice
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\v")


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
    """The URLs of a text file; :class:`InputError` when it cannot be read or is not text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read URL list {path}: {exc.strerror}") from None
    binary = _binary_at(data)
    if binary is not None:
        raise InputError(f"{path} is not a text file of URLs (binary data at byte {binary})")
    return parse_url_lines(data.decode("utf-8", errors="replace").splitlines())


def _binary_at(data: bytes) -> int | None:
    """Where the first byte no text file holds is (NUL, or control bytes other than white space)."""
    for offset, byte in enumerate(data[:_SNIFF_BYTES]):
        if byte < 0x20 and byte not in _TEXT_CONTROLS:
            return offset
    return None
