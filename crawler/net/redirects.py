"""Redirects, followed hop by hop, each hop routed and checked on its own.

httpx follows no redirect (:mod:`crawler.net.clients`); here each hop gets
its own route and zone limit (``crawler.zones``: a hop reached through Tor
stays in Tor, a hop may not reach a more private network than the one before
it), a scheme check and the redirect cap. The zone of a hop is that of the
address its answer came from, which :mod:`crawler.net.connect` checked when it
connected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from crawler.errors import FetchError
from crawler.net.bodies import finish_short_body
from crawler.net.clients import Clients
from crawler.net.http_errors import raise_for_status
from crawler.net.request import Requests
from crawler.net.tor import Route, is_onion, route_for
from crawler.redact import redact_text
from crawler.settings import Settings
from crawler.zones import Origin, Zone, Zones


@dataclass(frozen=True)
class Final:
    """The answer at the end of the redirects, and what the connection that brought it was."""

    response: httpx.Response
    via_tor: bool
    tls_verified: bool | None
    found: Origin  # the origin of URLs found in the answer


class Redirects:
    """Opens a URL's final answer, following its redirects (``limits.max_redirects``)."""

    def __init__(self, settings: Settings, zones: Zones, clients: Clients, requests: Requests) -> None:
        self._settings = settings
        self._zones = zones
        self._clients = clients
        self._requests = requests

    @asynccontextmanager
    async def stream(self, url: str, headers: dict[str, str], origin: Origin) -> AsyncIterator[Final]:
        """One request, redirects followed hop by hop; an error status raises (:mod:`crawler.net.http_errors`)."""
        max_redirects = self._settings.limits.max_redirects
        for _hop in range(max_redirects + 1):
            route = self._route(url, origin)
            async with self._requests.open(url, headers, route, origin.limit) as response:
                found = origin.found_on(
                    route.proxy is not None, self._zone(response, route), self._settings.safety.allow_private_targets
                )
                target = _redirect_target(response)
                if target is None:
                    await raise_for_status(response)
                    yield Final(response, route.proxy is not None, self._tls_verified(response.url), found)
                    return
                await finish_short_body(response)
            url, origin = target, found
        raise FetchError("redirects", f"more than {max_redirects} redirects (limits.max_redirects)")

    def _route(self, url: str, origin: Origin) -> Route:
        """The route of one hop; raises when the URL must not be fetched at all."""
        limits, tor, safety = self._settings.limits, self._settings.tor, self._settings.safety
        if len(url) > limits.max_url_length:
            raise FetchError("url_too_long", f"URL of {len(url)} characters, over limits.max_url_length ({limits.max_url_length})")
        host = urlsplit(url).hostname or ""
        kept_in_tor = origin.through_tor and not (tor.route_all or is_onion(host))
        if kept_in_tor and safety.found_through_tor == "skip":
            raise FetchError("outside_tor", 'found through Tor; safety.found_through_tor = "skip" keeps it out of a direct fetch')
        return route_for(host, tor.proxies, tor.route_all, kept_in_tor and safety.found_through_tor == "tor")

    def _zone(self, response: httpx.Response, route: Route) -> Zone:
        """The zone of the address the response came from; public through Tor, whose exits refuse private ones."""
        stream = response.extensions.get("network_stream")
        address = stream.get_extra_info("server_addr") if stream is not None and route.proxy is None else None
        return self._zones.of(address[0]) if address else Zone.PUBLIC

    def _tls_verified(self, url: httpx.URL) -> bool | None:
        return self._clients.verifies(url.host) if url.scheme == "https" else None


def _redirect_target(response: httpx.Response) -> str | None:
    """Where a redirect leads; None for an answer that is no redirect. Only http(s) is followed."""
    if not response.is_redirect:
        return None
    try:
        target = response.url.join(response.headers["location"]).copy_with(fragment=None)
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise FetchError("bad_redirect", f"redirect to an invalid URL: {redact_text(str(exc))}") from None
    if target.scheme not in ("http", "https"):
        raise FetchError("bad_redirect", f"redirect to a {target.scheme!r} URL refused: only http and https are followed")
    return str(target)
