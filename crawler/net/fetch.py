"""HTTP: the fetcher the crawl uses. ``crawler.net`` is the only package that knows httpx.

:class:`Fetcher` ties the pieces of one run's fetching together; each has a
module of its own:

- :mod:`crawler.net.slots`: how many requests may be in flight (overall, per
  host, to hosts not heard from yet);
- :mod:`crawler.net.clients`: the httpx clients, one per route, zone limit,
  certificate check and pool; :mod:`crawler.net.connect` opens their
  connections (zone checks on the address connected to, SOCKS5 to Tor);
- :mod:`crawler.net.request`: one request under those limits, with host
  health (:mod:`crawler.net.hosts`) and httpx's errors mapped to ours
  (:mod:`crawler.net.http_errors`);
- :mod:`crawler.net.redirects`: redirects followed hop by hop, each hop routed
  and zone-checked on its own;
- :mod:`crawler.net.bodies`: reading bodies, decoded in bounded pieces;
- :mod:`crawler.net.image_fetch` and :mod:`crawler.net.page_fetch`: images
  (Range GETs, reading on when Range is ignored) and pages;
- :mod:`crawler.net.retries`: the retry policy.

There is never a HEAD request.
"""

from __future__ import annotations

from functools import partial

import httpx

from crawler.answers import ImageResponse, PageResponse, RangeResponse
from crawler.net.bodies import decoded, is_html, is_whole, read_prefix, read_up_to
from crawler.net.clients import Clients
from crawler.net.hosts import HostHealth
from crawler.net.image_fetch import Images, range_headers
from crawler.net.page_fetch import Pages, page_response
from crawler.net.redirects import Redirects
from crawler.net.request import Requests
from crawler.net.retries import with_retries
from crawler.net.slots import HostSlots, LocalSlots, Slots
from crawler.settings import Settings
from crawler.zones import LISTED, Origin, Zones


class Fetcher:
    """Fetches prefixes and pages under the settings' limits. Use as ``async with``.

    ``transport``: tests inject one (None: real sockets). ``host_slots``: the
    per-host limit shared with other processes (None: this process's own).
    """

    def __init__(
        self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None, host_slots: HostSlots | None = None
    ) -> None:
        self._settings = settings
        zones = Zones(settings.safety.public_networks)
        self._clients = Clients(settings, zones, transport)
        limits = settings.limits
        requests = Requests(self._clients, Slots(limits.concurrency, limits.probing),
                            host_slots or LocalSlots(limits.per_host), HostHealth(limits.dead_host_failures),
                            settings.timeouts)
        self.hosts = requests.hosts
        self._redirects = Redirects(settings, zones, self._clients, requests)
        self._images = Images(settings, self._redirects)
        self._pages = Pages(settings, self._redirects)

    def ignores_range(self, url: str) -> bool:
        """Whether ``url``'s host has answered a follow-up Range request with the whole file (200)."""
        return self._images.ignores_range(url)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._clients.aclose()

    async def fetch_image(self, url: str, origin: Origin = LISTED) -> ImageResponse:
        """GET the image's first ``prefix_bytes`` with a Range request (more of a 200: :mod:`crawler.net.image_fetch`)."""
        return await self._images.prefix(url, origin)

    async def fetch_page(self, url: str, origin: Origin = LISTED) -> PageResponse:
        """GET a page, reading at most ``max_page_bytes`` of its decoded body."""
        return await self._pages.fetch(url, origin)

    async def fetch_range(self, url: str, start: int, end: int, origin: Origin = LISTED) -> RangeResponse:
        """GET bytes ``[start, end)`` of an image: a follow-up to its prefix."""
        return await self._images.range(url, start, end, origin)

    async def fetch_any(self, url: str) -> ImageResponse | PageResponse:
        """A listed URL may be an image or a page: one Range GET, then sniff.

        An image is done after that request. A page answered with 200 (Range
        ignored, as dynamic pages are) is read on from the same response; a
        page answered with 206 (a static file) is fetched again whole.
        """
        result = await with_retries(self._settings.retries, partial(self._any_attempt, url))
        if isinstance(result, ImageResponse):
            return await self._images.decompressed(url, LISTED, result)
        return result if result is not None else await self.fetch_page(url)

    async def _any_attempt(self, url: str) -> ImageResponse | PageResponse | None:
        """The image or the page at ``url``; None for a page cut by the Range."""
        limit = self._settings.fingerprint.prefix_bytes
        async with self._redirects.stream(url, range_headers(0, limit), LISTED) as final:
            response = final.response
            chunks = decoded(response)
            data = await read_prefix(response, chunks, limit)
            if not is_html(response, data):
                return await self._images.answer(final, chunks, data, True)
            if response.status_code == 206 and not is_whole(response, data):
                return None
            cap = self._settings.limits.max_page_bytes
            body = data + await read_up_to(chunks, cap + 1 - len(data))
            return page_response(final, body, cap)
