"""Images: the prefix by one Range GET, follow-up ranges, and what to do when a server ignores Range.

An image is fetched with one ``GET`` and ``Range: bytes=0-N``: the answer
gives both the first bytes and, from ``Content-Range``, the total size. When
a server ignores Range (200), the same answer is read on as far as the format
needs, within the per-image cap (:mod:`crawler.net.read_on`), and the
connection closed; a host that answers a follow-up range with 200 gets no
more follow-up Range requests. When a server compresses its answer anyway
(``Content-Encoding`` on a 206), its ranges count compressed bytes: the image
is then read from its start by one request without Range, the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from functools import partial

from crawler.answers import ImageResponse, RangeResponse
from crawler.errors import FetchError
from crawler.net.bodies import (
    decoded,
    encoding,
    identity_length,
    is_html,
    read_prefix,
    reader_within,
)
from crawler.net.headers import content_range_total
from crawler.net.read_on import read_on
from crawler.net.redirects import Final, Redirects
from crawler.net.request import host_of
from crawler.net.retries import with_retries
from crawler.settings import Settings
from crawler.zones import Origin

# Image requests ask for the file as stored. Accept names the classic formats at full weight and
# never webp or avif: image CDNs (and negotiating servers) convert to those when a client lists them,
# and a converted copy has other bytes, hashes and often no EXIF. image/* and */* at lower weights
# still take whatever the server has (an original WebP, an SVG, an HTML page for fetch_any).
_IMAGE_HEADERS = {
    "Accept": "image/jpeg,image/png,image/gif,image/*;q=0.8,*/*;q=0.5",
    "Accept-Encoding": "identity",
}


def range_headers(start: int, end: int) -> dict[str, str]:
    """Headers asking for bytes ``[start, end)`` as they are stored (ranges are inclusive in HTTP)."""
    return {**_IMAGE_HEADERS, "Range": f"bytes={start}-{end - 1}"}


class Images:
    """Image requests of one fetcher; remembers the hosts that ignored a follow-up Range."""

    def __init__(self, settings: Settings, redirects: Redirects) -> None:
        self._settings = settings
        self._redirects = redirects
        # Hosts that answered a follow-up Range request with 200. (A prefix answered 200 is read on and
        # gets no follow-ups; it does not mark the host, whose other files may honour Range: static
        # files and a script side by side.)
        self._ignore_range: set[str] = set()

    def ignores_range(self, url: str) -> bool:
        """Whether ``url``'s host has answered a follow-up Range request with the whole file (200)."""
        return host_of(url) in self._ignore_range

    async def prefix(self, url: str, origin: Origin) -> ImageResponse:
        """The image's first ``prefix_bytes`` (more of a 200), retried under the policy."""
        prefix = self._settings.fingerprint.prefix_bytes
        response = await with_retries(self._settings.retries, partial(self._attempt, url, origin, range_headers(0, prefix)))
        return await self.decompressed(url, origin, response)

    async def range(self, url: str, start: int, end: int, origin: Origin) -> RangeResponse:
        """Bytes ``[start, end)`` of an image, retried under the policy."""
        return await with_retries(self._settings.retries, partial(self._range_attempt, url, start, end, origin))

    async def decompressed(self, url: str, origin: Origin, response: ImageResponse) -> ImageResponse:
        """An image answered with a compressed range, read again from its start without Range.

        A compressed 206 holds the first bytes of the compressed file: its
        decoded bytes may fall short of the prefix, and no range of it can be
        asked for by file offset. When the second request fails, the first
        answer stands (its record says it was encoded).
        """
        if not (response.encoded and response.range_ignored is False):
            return response
        try:
            again = await with_retries(self._settings.retries, partial(self._attempt, url, origin, _IMAGE_HEADERS, False))
        except FetchError:
            return response
        return replace(again, bytes_fetched=response.bytes_fetched + again.bytes_fetched, range_ignored=False,
                       content_encoding=response.content_encoding)

    async def answer(self, final: Final, chunks: AsyncIterator[bytes], data: bytes, ranged: bool) -> ImageResponse:
        """The image from its answer's first bytes; a whole-file answer is read on as far as the format needs."""
        response, limit = final.response, self._settings.fingerprint.prefix_bytes
        if response.status_code in (206, 416) or is_html(response, data):  # a login or soft-404 page is not read on
            return _image_response(final, data, limit, ranged)
        declared = identity_length(response.headers)
        ended = len(data) < limit or (declared is not None and len(data) >= declared)
        cap = self._settings.fingerprint.max_bytes_per_image
        found = await read_on(chunks, data, declared, ended, self._settings.fingerprint, reader_within(response, cap))
        return _image_response(final, found.data, limit, ranged, found.whole)

    async def _attempt(self, url: str, origin: Origin, headers: dict[str, str], ranged: bool = True) -> ImageResponse:
        async with self._redirects.stream(url, headers, origin) as final:
            chunks = decoded(final.response)
            data = await read_prefix(final.response, chunks, self._settings.fingerprint.prefix_bytes)
            return await self.answer(final, chunks, data, ranged)

    async def _range_attempt(self, url: str, start: int, end: int, origin: Origin) -> RangeResponse:
        if self.ignores_range(url):
            raise FetchError("range_ignored", f"{host_of(url)} ignored Range before: no follow-up range sent")
        async with self._redirects.stream(url, range_headers(start, end), origin) as final:
            response = final.response
            if response.status_code != 206:
                if response.status_code == 200:
                    self._ignore_range.add(host_of(url))
                raise FetchError("range_ignored", f"asked for bytes {start}-{end - 1}, got HTTP {response.status_code}")
            if encoding(response.headers) is not None:
                raise FetchError("encoded_range", f"bytes {start}-{end - 1} came compressed ({encoding(response.headers)}): "
                                 "its offsets count compressed bytes")
            content_range_total(response.headers.get("content-range"), expect_start=start)
            data = await read_prefix(response, decoded(response), end - start)
            return RangeResponse(data[: end - start], response.num_bytes_downloaded)


def _image_response(final: Final, body: bytes, limit: int, ranged: bool, whole: bool = False) -> ImageResponse:
    """The image's answer; ``body`` is what was read from offset 0, ``whole`` when it is the whole file."""
    response = final.response
    headers = response.headers
    content_encoding = encoding(headers)
    total: int | None
    if response.status_code in (206, 416):
        # A compressed answer's Content-Range counts compressed bytes: no size from it.
        total = None if content_encoding else content_range_total(headers.get("content-range"), 0 if response.status_code == 206 else None)
    else:
        total = len(body) if whole else identity_length(headers)
    return ImageResponse(
        url=str(response.url),
        data=body[:limit],
        rest=body[limit:] if response.status_code == 200 else b"",  # a 206 carries only the prefix asked for
        whole=whole or (total is not None and len(body) >= total),
        range_ignored=None if not ranged or response.status_code == 416 else response.status_code != 206,
        content_encoding=content_encoding,
        total_size=total,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        content_type=headers.get("content-type"),
        bytes_fetched=response.num_bytes_downloaded,
        via_tor=final.via_tor,
        tls_verified=final.tls_verified,
    )
