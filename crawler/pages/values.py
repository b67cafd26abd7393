"""Attribute values and CSS -> the raw (unresolved) URL strings they hold.

An image reference is not always one URL in one attribute: a ``srcset``
lists candidates with descriptors, lazysizes' ``data-bgset`` adds media
queries between ``|``, lozad's ``data-background-image`` is a comma list,
``style`` attributes and ``<style>`` elements are CSS with ``url()`` and
``image-set()``, and some sites store JSON in an attribute. This module reads
those formats; :mod:`crawler.pages.extract` decides which attribute holds
which, and resolves what comes out. Strings that are not URLs (JSON keys,
numbers and MIME types, fonts and style sheets in CSS) are left out, because
resolving them as relative URLs makes garbage requests. Every scanner is one
left-to-right pass of regular expressions that never rescan, so time stays
linear in the value, whatever a hostile page holds.
"""

from __future__ import annotations

import json
import re
from typing import Literal, TypeAlias
from urllib.parse import urlsplit

__all__ = ["Kind", "css_urls", "has_image_extension", "is_plausible_path", "urls_in"]

# What an attribute holds: one URL, a srcset, a lazysizes bgset, a comma list,
# CSS, or (``background``) CSS if it has a url() and one URL otherwise.
Kind: TypeAlias = Literal["url", "srcset", "bgset", "list", "css", "background"]

_IMAGE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff",
     "heic", "heif", "avif", "jxl", "ico"}
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
# The "|" between the sets of a bgset and its "[media query]" parts.
_BGSET_SEPARATOR = re.compile(r"\||\[[^\]]*\]?")
# The CSS tokens that matter; anything else is skipped by finditer. A URL is
# the argument of url(), or a string directly inside image-set(). Comments,
# @import / @namespace (style sheets) and @font-face blocks (fonts) are
# consumed whole so that their url()s are not taken for images.
_CSS_TOKEN = re.compile(
    r"""
      /\* .*? (?: \*/ | \Z )
    | @(?: import | namespace ) \b [^;]*
    | @font-face \b [^}]*
    | (?<! [\w-] ) url\( [ \t\n\r\f]*
      (?: " (?P<url_dq> (?: [^"\\\n] | \\. )* ) "?
        | ' (?P<url_sq> (?: [^'\\\n] | \\. )* ) '?
        | (?P<url> [^)"'\ \t\n\r\f]* ) )
      [ \t\n\r\f]* \)?
    | " (?P<dq> (?: [^"\\\n] | \\. )* ) "?
    | ' (?P<sq> (?: [^'\\\n] | \\. )* ) '?
    | (?P<image_set> (?<! [\w-] ) (?: -webkit- )? image-set \( )
    | (?P<open> \( )
    | (?P<close> \) )
    """,
    re.VERBOSE | re.DOTALL | re.IGNORECASE,
)
_URL_GROUPS = frozenset({"url_dq", "url_sq", "url"})
_STRING_GROUPS = frozenset({"dq", "sq"})


def urls_in(value: str, kind: Kind) -> list[str]:
    """The raw URLs in an attribute ``value`` of the given kind, or in its JSON.

    A value that starts with ``{`` or ``[`` and parses as JSON yields the
    URL-like strings inside it, whatever the kind; one that does not parse is
    read as its kind says.
    """
    if value.lstrip()[:1] in ("{", "["):
        found = _json_urls(value)
        if found is not None:
            return found
    if kind == "srcset":
        return srcset_urls(value)
    if kind == "bgset":
        return srcset_urls(_BGSET_SEPARATOR.sub(",", value))
    if kind == "list":
        return value.split(",")
    if kind == "css" or (kind == "background" and "url(" in value.lower()):
        return css_urls(value)
    return [value]


def srcset_urls(srcset: str) -> list[str]:
    """The URL of every candidate in a srcset; descriptors are skipped, not checked."""
    return [match.group(1) for match in _SRCSET_CANDIDATE.finditer(srcset)]


def css_urls(css: str) -> list[str]:
    """The url() arguments and image-set() strings of CSS text, in order."""
    urls: list[str] = []
    depth = 0  # parentheses open since an image-set(; its URLs are strings at depth 1
    for match in _CSS_TOKEN.finditer(css):
        group = match.lastgroup
        if group in _URL_GROUPS or (group in _STRING_GROUPS and depth == 1):
            urls.append(match.group(group))
        elif group == "image_set" or (group == "open" and depth):
            depth += 1
        elif group == "close" and depth:
            depth -= 1
    return urls


def _json_urls(text: str) -> list[str] | None:
    """The URL-like strings of a JSON document, in order; None if ``text`` is not JSON."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the decoder goes
        return None
    urls: list[str] = []
    pending = [document]  # a stack, not recursion: nesting depth is the page's choice
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            candidates = srcset_urls(item)  # a string may hold a srcset
            if candidates and all(map(_is_url_like, candidates)):
                urls.extend(candidates)
        elif isinstance(item, dict):
            pending.extend(reversed(item.values()))
        elif isinstance(item, list):
            pending.extend(reversed(item))
    return urls


def _is_url_like(text: str) -> bool:
    """Whether a string (from JSON) is surely meant as a URL: absolute, rooted, or an image file."""
    return text.startswith("/") or text[:8].lower().startswith(("http://", "https://")) or (
        has_image_extension(text)
    )


def is_plausible_path(text: str) -> bool:
    """Whether a lazy-loading attribute's value can be a URL, not a flag or a word ("true", "dark")."""
    text = text.strip()
    return "/" in text or "?" in text or has_image_extension(text)


def has_image_extension(url: str) -> bool:
    """Whether the URL's path (query ignored) ends in an image file extension."""
    try:
        path = urlsplit(url).path
    except ValueError:  # e.g. "http://[invalid"
        return False
    return path.rpartition(".")[2].lower() in _IMAGE_EXTENSIONS
