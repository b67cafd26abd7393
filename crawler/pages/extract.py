"""HTML page -> the absolute URLs of the images it references.

A page points at its images in many places besides ``<img src>``: every
candidate of a ``srcset`` (on ``<img>`` and ``<picture><source>``),
lazy-loading attributes (``data-src``, ``data-srcset``, ``data-original``,
``data-lazy-src``, ``data-lazy-srcset``), social-card metadata (``og:image``,
``twitter:image``), ``<link rel="image_src">`` and plain ``<a href>`` links to
image files. This module finds them all, resolves them against the page (or
its first ``<base href>``), keeps http(s) only, drops fragments and
duplicates, and caps the list while counting what the cap dropped, so the
pipeline can report it instead of losing it silently. It never raises on bad
markup, bad bytes or bad URLs: a crawled page is untrusted input.

This is the only module that knows bs4; it uses bs4's ``UnicodeDammit`` to
find a page's charset (BOM, ``<meta charset>``, then detection). It does not
build a bs4 tree: lxml is not a dependency, and with ``html.parser`` bs4 is
quadratic in the number of void elements such as ``<img>`` (each one goes on
a list that every later end tag scans), SoupStrainer or not, so a page of
100,000 ``<img>`` would take minutes. Instead the standard library's
``html.parser`` tokenizer (the one bs4 would drive) streams start tags into
:class:`_TagCollector`, which keeps only the attributes that matter: time is
linear in the page and no tree is held in memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TypeAlias
from urllib.parse import urljoin, urlsplit

__all__ = ["Extracted", "extract_image_urls"]

_ASCII_WHITESPACE = " \t\n\r\f"
_WEB_SCHEMES = frozenset({"http", "https"})
_IMAGE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff",
     "heic", "heif", "avif", "jxl", "ico"}
)
_META_KEYS = frozenset(
    {"og:image", "og:image:url", "og:image:secure_url",
     "twitter:image", "twitter:image:src"}
)
# Attributes of <img> and <source> that hold images, in the order they are
# reported, and whether each holds a srcset (many URLs) or a single URL.
_MEDIA_ATTRIBUTES: tuple[tuple[str, bool], ...] = (
    ("src", False),
    ("srcset", True),
    ("data-src", False),
    ("data-srcset", True),
    ("data-original", False),
    ("data-lazy-src", False),
    ("data-lazy-srcset", True),
)
# One srcset image candidate, per the HTML spec's parsing rules: separators
# (whitespace, commas), then the URL, a run of non-whitespace less any
# trailing commas; trailing commas end the candidate, otherwise its
# descriptors ("2x", "480w", ...) run to the next comma outside parentheses.
_SRCSET_CANDIDATE = re.compile(
    r"""
    [ \t\n\r\f,]*
    ( [^ \t\n\r\f]* [^ \t\n\r\f,] )
    (?: ,+ | [^,(]* (?: \( [^)]* \)? [^,(]* )* )
    """,
    re.VERBOSE,
)

Attributes: TypeAlias = dict[str, str]


@dataclass(frozen=True)
class Extracted:
    """The image URLs found in one page."""

    image_urls: list[str]  # absolute, deduplicated, in document order, capped
    found: int  # distinct image URLs found before the cap
    capped: int  # how many were dropped by the cap (found - len(image_urls))


def extract_image_urls(
    html: bytes | str, page_url: str, max_images: int, encoding: str | None = None
) -> Extracted:
    """Find the images ``html`` (fetched from ``page_url``) references.

    ``encoding`` (e.g. the HTTP charset) decodes bytes when given; otherwise
    the charset is sniffed. Undecodable bytes are replaced, never fatal. At
    most ``max_images`` URLs (negative counts as 0) are returned.
    """
    collector = _collect(_decode(html, encoding))
    base = _absolute(collector.base_href or "", page_url) or page_url
    found = list(dict.fromkeys(_resolve(collector.references, base)))
    kept = found[: max(max_images, 0)]
    return Extracted(image_urls=kept, found=len(found), capped=len(found) - len(kept))


def _decode(html: bytes | str, encoding: str | None) -> str:
    """The page as text: ``encoding`` if given and known, else sniffed."""
    if isinstance(html, str):
        return html
    if encoding:
        try:
            return html.decode(encoding, errors="replace")
        except LookupError:  # an unknown charset name from the server
            pass
    from bs4 import (
        UnicodeDammit,  # deferred: bs4 costs 50 ms at start-up, and only pages need it
    )

    dammit = UnicodeDammit(html, is_html=True)
    return dammit.unicode_markup or html.decode("utf-8", errors="replace")


class _TagCollector(HTMLParser):
    """Keeps the raw image references of the start tags that can carry them.

    ``references`` holds ``(raw URL, is a link)`` in document order; links
    (``<a href>``) count only if they end in an image extension, which can be
    told only once resolved.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[tuple[str, bool]] = []
        self.base_href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            return
        # Reversed so that, as in browsers, the first of duplicate attributes wins.
        attributes = {name: value or "" for name, value in reversed(attrs)}
        if tag == "base":
            if self.base_href is None and "href" in attributes:
                self.base_href = attributes["href"]
        elif tag == "a":
            self.references.append((attributes.get("href", ""), True))
        else:
            self.references.extend((url, False) for url in _READERS[tag](attributes))

    def parse_html_declaration(self, i: int) -> int:
        # html.parser raises AssertionError on some malformed "<!" constructs
        # (e.g. "<![foo["); read them as bogus comments, as browsers do.
        try:
            return super().parse_html_declaration(i)
        except AssertionError:
            return self.parse_bogus_comment(i)


def _collect(markup: str) -> _TagCollector:
    """Tokenize ``markup``, keeping whatever was read if the tokenizer gives up."""
    collector = _TagCollector()
    try:
        collector.feed(markup)
        collector.close()
    except AssertionError:  # html.parser's only fatal error; a safety net
        pass
    return collector


def _media_references(attributes: Attributes) -> list[str]:
    """URLs of an ``<img>`` or ``<source>``: src, every srcset candidate, lazy-load attributes."""
    urls: list[str] = []
    for name, is_srcset in _MEDIA_ATTRIBUTES:
        value = attributes.get(name)
        if value:
            urls.extend(_srcset_urls(value) if is_srcset else [value])
    return urls


def _meta_references(attributes: Attributes) -> list[str]:
    """``content`` of an og:image / twitter:image ``<meta>`` (``property`` or ``name``)."""
    keys = {
        attributes.get(key, "").strip(_ASCII_WHITESPACE).lower() for key in ("property", "name")
    }
    return [attributes.get("content", "")] if keys & _META_KEYS else []


def _link_references(attributes: Attributes) -> list[str]:
    """``href`` of a ``<link rel="image_src">``."""
    rels = attributes.get("rel", "").lower().split()
    return [attributes.get("href", "")] if "image_src" in rels else []


_READERS: dict[str, Callable[[Attributes], list[str]]] = {
    "img": _media_references,
    "source": _media_references,
    "meta": _meta_references,
    "link": _link_references,
}
_TAGS = frozenset(_READERS) | {"a", "base"}


def _srcset_urls(srcset: str) -> list[str]:
    """The URL of every candidate in a srcset; descriptors are skipped, not checked."""
    return [match.group(1) for match in _SRCSET_CANDIDATE.finditer(srcset)]


def _resolve(references: list[tuple[str, bool]], base: str) -> Iterator[str]:
    """Absolute http(s) URLs of ``references``; links only if they name an image file."""
    for reference, is_link in references:
        url = _absolute(reference, base)
        if url is not None and (not is_link or _has_image_extension(url)):
            yield url


def _absolute(reference: str, base: str) -> str | None:
    """``reference`` resolved against ``base``, without fragment; None unless http(s)."""
    reference = reference.strip(_ASCII_WHITESPACE)
    if not reference:
        return None
    try:
        url = urljoin(base, reference)
    except ValueError:  # e.g. "http://[invalid"
        return None
    scheme = url.partition(":")[0].lower()  # urljoin has already parsed it
    return url.partition("#")[0] if scheme in _WEB_SCHEMES else None


def _has_image_extension(url: str) -> bool:
    """Whether the URL's path (query ignored) ends in an image file extension."""
    return urlsplit(url).path.rpartition(".")[2].lower() in _IMAGE_EXTENSIONS
