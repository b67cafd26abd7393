"""HTML page -> the absolute URLs of the images it references.

A page points at its images in many places besides ``<img src>``: every
candidate of a ``srcset`` (on ``<img>`` and ``<picture><source>``; a
``<source>`` of ``<audio>``/``<video>`` is not an image), the attributes where
lazy-loading scripts keep the real image (the tables ``_IMG`` and ``_ANY``
below, with the library each comes from), JSON stored in such an attribute,
CSS ``url()`` and ``image-set()`` in ``style`` attributes and ``<style>``
elements, SVG ``<image href>``, ``<input type=image>``, ``<video poster>``,
the legacy ``background`` attribute, social-card metadata (``og:image``,
``twitter:image``), ``<link rel="image_src">``, ``<link rel=preload
as=image>`` and plain ``<a href>`` links to image files. This module finds
them all (reading the values with :mod:`crawler.pages.values`), resolves them
against the page (or its first ``<base href>``), keeps http(s) only, drops
fragments, references to the page itself (``#``) and duplicates, and caps the
list while counting what the cap dropped, so the pipeline can report it
instead of losing it silently. It never raises on bad markup, bad bytes or
bad URLs: a crawled page is untrusted input.

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

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TypeAlias
from urllib.parse import urljoin

from crawler.pages.values import (
    Kind,
    css_urls,
    has_image_extension,
    is_plausible_path,
    urls_in,
)

__all__ = ["Extracted", "extract_image_urls"]

_ASCII_WHITESPACE = " \t\n\r\f"
_WEB_SCHEMES = frozenset({"http", "https"})
_META_KEYS = frozenset(
    {"og:image", "og:image:url", "og:image:secure_url",
     "twitter:image", "twitter:image:src"}
)

Attributes: TypeAlias = dict[str, str]
# attribute -> what its value holds, in the order an element's images are reported.
Table: TypeAlias = dict[str, Kind]

# <img>, and <source> in a <picture>: the standard attributes, then those where
# lazy-loading scripts keep the real image while src holds a placeholder.
_IMG: Table = {
    "src": "url",
    "srcset": "srcset",
    "data-src": "url",  # lazysizes, lozad, vanilla-lazyload, unveil, bLazy, Swiper...
    "data-srcset": "srcset",
    "data-original": "url",  # jQuery Lazy Load
    "data-lazy-src": "url",  # WP Rocket, Jetpack
    "data-lazy-srcset": "srcset",
    "data-lazy": "url",  # Slick
    "data-echo": "url",  # echo.js
    "data-src-retina": "url",  # unveil, Owl Carousel
    "data-flickity-lazyload": "url",  # Flickity
    "data-flickity-lazyload-src": "url",
    "data-flickity-lazyload-srcset": "srcset",
    "data-pagespeed-lazy-src": "url",  # mod_pagespeed
    "data-hi-res-src": "url",  # these three: seen on crawled pages
    "data-fallback-src": "url",
    "data-source-standard": "url",
}
# SVG's <image>; outside <svg> browsers read <image> as <img>.
_IMAGE: Table = {"href": "url", "xlink:href": "url", **_IMG}
_VIDEO: Table = {"poster": "url", "data-poster": "url"}  # data-poster: lozad, vanilla-lazyload
_INPUT: Table = {"src": "url"}  # only <input type=image>
_BACKGROUND: Table = {"background": "url"}  # legacy, still honoured on <body> and tables
_PRELOAD: Table = {"href": "url", "imagesrcset": "srcset"}  # <link rel=preload as=image>
# On every element: inline CSS, and where lazy-loading scripts keep background
# images (lazysizes bgset, lozad, vanilla-lazyload, WP Rocket, echo.js).
_ANY: Table = {
    "style": "css",
    "data-bg": "background",
    "data-bg-hidpi": "background",
    "data-bg-multi": "css",
    "data-bg-multi-hidpi": "css",
    "data-bg-set": "css",
    "data-bgset": "bgset",
    "data-background-image": "list",
    "data-background-image-set": "css",
    "data-echo-background": "url",
}


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
    """Keeps the raw image references of the start tags and ``<style>`` texts that carry them.

    ``references`` holds ``(raw URL, is a link)`` in document order; links
    (``<a href>``) count only if they end in an image extension, which can be
    told only once resolved.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[tuple[str, bool]] = []
        self.base_href: str | None = None
        self._pictures = 0  # <picture> elements open: a <source> elsewhere is audio or video
        self._style: list[str] | None = None  # the text of the open <style>, if any

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "picture":
            self._pictures += 1
        elif tag == "style":
            self._style = []
        if tag not in _TAGS and (not attrs or _ANY.keys().isdisjoint([name for name, _ in attrs])):
            return
        # Reversed so that, as in browsers, the first of duplicate attributes wins.
        attributes = {name: value or "" for name, value in reversed(attrs)}
        if tag == "base":
            if self.base_href is None and "href" in attributes:
                self.base_href = attributes["href"]
        elif tag == "a":
            self.references.append((attributes.get("href", ""), True))
        elif tag in _READERS and (tag != "source" or self._pictures or _is_image_type(attributes)):
            self._add(_READERS[tag](attributes))
        if not _ANY.keys().isdisjoint(attributes):
            self._add(_read(attributes, _ANY))

    def handle_endtag(self, tag: str) -> None:
        if tag == "picture" and self._pictures:
            self._pictures -= 1
        elif tag == "style":
            self._end_style("")

    def handle_data(self, data: str) -> None:
        if self._style is not None:
            self._style.append(data)

    def end_input(self) -> None:
        """Read the text of a ``<style>`` left open (a truncated page)."""
        # html.parser keeps that text unread in rawdata.
        self._end_style(self.rawdata)

    def _end_style(self, rest: str) -> None:
        if self._style is not None:
            self._add(css_urls("".join(self._style) + rest))
            self._style = None

    def _add(self, urls: list[str]) -> None:
        self.references.extend((url, False) for url in urls)

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
    collector.end_input()
    return collector


def _read(attributes: Attributes, table: Table) -> list[str]:
    """The raw URLs in the attributes ``table`` names, in its order.

    Lazy-loading (``data-*``) attributes also hold flags and words ("true",
    "dark"); only values that can be paths are kept.
    """
    names = attributes.keys() & table.keys()  # a set operation: most tables are long, most tags short
    urls: list[str] = []
    for name in sorted(names, key=list(table).index) if len(names) > 1 else names:
        if value := attributes[name]:
            found = urls_in(value, table[name])
            urls.extend(filter(is_plausible_path, found) if name.startswith("data-") else found)
    return urls


def _is_image_type(attributes: Attributes) -> bool:
    return attributes.get("type", "").strip(_ASCII_WHITESPACE).lower().startswith("image/")


def _meta_references(attributes: Attributes) -> list[str]:
    """``content`` of an og:image / twitter:image ``<meta>`` (``property`` or ``name``)."""
    keys = {
        attributes.get(key, "").strip(_ASCII_WHITESPACE).lower() for key in ("property", "name")
    }
    return [attributes.get("content", "")] if keys & _META_KEYS else []


def _link_references(attributes: Attributes) -> list[str]:
    """``href`` of a ``<link rel="image_src">``; of a ``rel=preload as=image`` its imagesrcset too."""
    rels = attributes.get("rel", "").lower().split()
    if "preload" in rels and attributes.get("as", "").strip(_ASCII_WHITESPACE).lower() == "image":
        return _read(attributes, _PRELOAD)
    return [attributes.get("href", "")] if "image_src" in rels else []


def _input_references(attributes: Attributes) -> list[str]:
    """``src`` of an ``<input type=image>``."""
    is_image = attributes.get("type", "").strip(_ASCII_WHITESPACE).lower() == "image"
    return _read(attributes, _INPUT) if is_image else []


def _table_reader(table: Table) -> Callable[[Attributes], list[str]]:
    return lambda attributes: _read(attributes, table)


_READERS: dict[str, Callable[[Attributes], list[str]]] = {
    "img": _table_reader(_IMG),
    "source": _table_reader(_IMG),
    "image": _table_reader(_IMAGE),
    "video": _table_reader(_VIDEO),
    "input": _input_references,
    "meta": _meta_references,
    "link": _link_references,
    **dict.fromkeys(("body", "table", "thead", "tbody", "tfoot", "tr", "td", "th"),
                    _table_reader(_BACKGROUND)),
}
_TAGS = frozenset(_READERS) | {"a", "base"}


def _resolve(references: list[tuple[str, bool]], base: str) -> Iterator[str]:
    """Absolute http(s) URLs of ``references``; links only if they name an image file."""
    for reference, is_link in references:
        url = _absolute(reference, base)
        if url is not None and (not is_link or has_image_extension(url)):
            yield url


def _absolute(reference: str, base: str) -> str | None:
    """``reference`` resolved against ``base``, without fragment; None unless http(s).

    A reference that is only a fragment ("#", "#top") or empty names the page
    itself, never an image on it: None.
    """
    target = reference.strip(_ASCII_WHITESPACE).partition("#")[0]
    if not target:
        return None
    try:
        url = urljoin(base, target)
    except ValueError:  # e.g. "http://[invalid"
        return None
    if url.partition(":")[0].lower() not in _WEB_SCHEMES:  # urljoin has already parsed it
        return None
    # urljoin drops an empty query, but "a.jpg?" is another URL than "a.jpg": put it back.
    _, mark, query = target.partition("?")
    return url + "?" if mark and not query and not url.endswith("?") else url
