"""Pages: one GET, its body decoded and read up to ``limits.max_page_bytes``."""

from __future__ import annotations

from functools import partial

from crawler.answers import PageResponse
from crawler.net.bodies import decoded, read_up_to
from crawler.net.redirects import Final, Redirects
from crawler.net.retries import with_retries
from crawler.settings import Settings
from crawler.zones import Origin

_PAGE_HEADERS = {"Accept-Encoding": "gzip, deflate"}  # what crawler.net.decoding decodes


class Pages:
    """Page requests of one fetcher."""

    def __init__(self, settings: Settings, redirects: Redirects) -> None:
        self._settings = settings
        self._redirects = redirects

    async def fetch(self, url: str, origin: Origin) -> PageResponse:
        """The page at ``url``, retried under the policy."""
        return await with_retries(self._settings.retries, partial(self._attempt, url, origin))

    async def _attempt(self, url: str, origin: Origin) -> PageResponse:
        cap = self._settings.limits.max_page_bytes
        async with self._redirects.stream(url, _PAGE_HEADERS, origin) as final:
            return page_response(final, await read_up_to(decoded(final.response), cap + 1), cap)


def page_response(final: Final, body: bytes, cap: int) -> PageResponse:
    """The page's answer from its first ``cap + 1`` bytes (one more than the cap tells it was cut)."""
    response = final.response
    return PageResponse(
        url=str(response.url),
        body=body[:cap],
        encoding=response.charset_encoding,
        truncated=len(body) > cap,
        bytes_fetched=response.num_bytes_downloaded,
        via_tor=final.via_tor,
        tls_verified=final.tls_verified,
        found=final.found,
    )
