"""What the network layer hands up: an image's first bytes, a range of it, or a page.

Plain data, built from an HTTP answer by :mod:`crawler.net.image_fetch` and
:mod:`crawler.net.page_fetch` and read by the orchestration and by
:mod:`crawler.records`, which must not depend on the network stack to turn an
answer into a record.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.zones import Origin, Zone


@dataclass(frozen=True)
class ImageResponse:
    """The first bytes of an image and what the headers said about it."""

    url: str  # final URL, after redirects
    data: bytes  # at most prefix_bytes
    total_size: int | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    bytes_fetched: int  # body bytes read from the network
    via_tor: bool = False  # the final hop went through a Tor proxy
    tls_verified: bool | None = None  # https: whether the certificate was verified; None for http
    rest: bytes = b""  # bytes past ``data`` read on from the same answer (Range ignored: see crawler.net.read_on)
    whole: bool = False  # data + rest is the whole file: the answer ended within the cap
    range_ignored: bool | None = None  # the server answered the Range request with 200; None: no answer to judge (416)
    content_encoding: str | None = None  # Content-Encoding as sent, when not identity (the body was decoded)

    @property
    def encoded(self) -> bool:
        """The body came compressed: a Content-Range counts compressed bytes, useless as file offsets."""
        return self.content_encoding is not None


@dataclass(frozen=True)
class RangeResponse:
    """Bytes of an image past its prefix, from a follow-up Range request."""

    data: bytes
    bytes_fetched: int


@dataclass(frozen=True)
class PageResponse:
    """An HTML page's body, cut at the size cap."""

    url: str  # final URL, after redirects: the base for relative links
    body: bytes
    encoding: str | None
    truncated: bool
    bytes_fetched: int
    via_tor: bool = False
    tls_verified: bool | None = None
    found: Origin = Origin(limit=Zone.PUBLIC)  # where the URLs found on the page may go
