"""HTTP: the only module that knows httpx.

It owns the clients (direct, and one per ``.onion`` host through its SOCKS5
proxy), the concurrency limits (overall and per host), the retry policy
(tenacity) and the one choke point that maps httpx's exceptions to ours.

Redirects are followed here, hop by hop, not by httpx: each hop gets its own
route and zone limit (``crawler.zones``: a hop reached through Tor stays in
Tor, a hop may not reach a more private network than the one before it), a
scheme check and the redirect cap. Connections are opened by
``crawler.net.connect``, which enforces the zone limit on the address actually
connected to and speaks SOCKS5 to Tor itself.

Images are fetched with one ``GET`` and ``Range: bytes=0-N``: the answer
gives both the first bytes and, from ``Content-Range``, the total size. When a
server ignores Range (200), the same answer is read on as far as the format
needs, within the per-image cap (:mod:`crawler.net.read_on`), and the
connection closed; a host that answers a follow-up range with 200 gets no
more follow-up Range requests. When a
server compresses its answer anyway (``Content-Encoding`` on a 206), its
ranges count compressed bytes: the image is then read from its start by one
request without Range, the same way. There is never a HEAD request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from crawler.answers import ImageResponse, PageResponse, RangeResponse
from crawler.errors import FetchError, TransientError, retries_now
from crawler.fingerprint.sniff import answers_html
from crawler.net import connect
from crawler.net.decoding import BodyDecoder
from crawler.net.headers import content_range_total, parse_retry_after
from crawler.net.hosts import HostHealth
from crawler.net.read_on import Reader, read_on
from crawler.net.slots import HostSlots, LocalSlots
from crawler.net.tor import Route, is_onion, route_for
from crawler.redact import redact_text, redact_url
from crawler.settings import Settings
from crawler.zones import LISTED, Origin, Zone, Zones

T = TypeVar("T")
_POOL_SIZE = 4  # connections per direct client; see Fetcher._client
_NETWORK_READ = 65536  # httpcore reads the socket in pieces of up to this many bytes
_ERROR_BODY_BYTES = 65536  # error pages up to this size are read, keeping the connection


@dataclass(frozen=True)
class _Final:
    """The answer at the end of the redirects, and what the connection that brought it was."""

    response: httpx.Response
    via_tor: bool
    tls_verified: bool | None
    found: Origin  # the origin of URLs found in the answer


class Fetcher:
    """Fetches prefixes and pages under the settings' limits. Use as ``async with``."""

    def __init__(
        self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None, host_slots: HostSlots | None = None
    ) -> None:
        self._settings = settings
        self._transport = transport  # tests inject one; None means real sockets
        self._clients: dict[tuple[Route, Zone | None, bool, int], httpx.AsyncClient] = {}
        self._tls = httpx.create_ssl_context()  # one for all clients: each costs ~20 ms to build
        self._unverified: ssl.SSLContext | None = None  # for onion services, when safety.verify_onion_tls is off
        self._zones = Zones(settings.safety.public_networks)
        # The overall limit as tokens, each naming the pool (shard) its holder
        # uses: _POOL_SIZE tokens per pool, so no pool has more requests in
        # flight than connections (see _client).
        self._slots: asyncio.Queue[int] = asyncio.Queue()
        for token in range(settings.limits.concurrency):
            self._slots.put_nowait(token // _POOL_SIZE)
        # limits.per_host: this process's own slots, or the fleet's (a queue worker passes those in)
        self._host_slots: HostSlots = host_slots or LocalSlots(settings.limits.per_host)
        # Requests to hosts that have not answered yet take probe tokens instead
        # of overall slots, so dead hosts cannot hold the overall limit; the
        # shard numbers go on after the slots' pools.
        self._probes: asyncio.Queue[int] = asyncio.Queue()
        first = settings.limits.concurrency // _POOL_SIZE + 1
        for token in range(settings.limits.probing):
            self._probes.put_nowait(first + token // _POOL_SIZE)
        self.hosts = HostHealth(settings.limits.dead_host_failures)
        # Hosts that answered a follow-up Range request with 200. (A prefix answered 200 is read on and
        # gets no follow-ups; it does not mark the host, whose other files may honour Range: static
        # files and a script side by side.)
        self._ignore_range: set[str] = set()

    def ignores_range(self, url: str) -> bool:
        """Whether ``url``'s host has answered a follow-up Range request with the whole file (200)."""
        return _host(url) in self._ignore_range

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))
        self._clients.clear()

    async def fetch_image(self, url: str, origin: Origin = LISTED) -> ImageResponse:
        """GET the image's first ``prefix_bytes`` with a Range request (more of a 200: see the module's docstring)."""
        prefix = self._settings.fingerprint.prefix_bytes
        response = await self._with_retries(partial(self._image_attempt, url, origin, _range_headers(0, prefix)))
        return await self._decompressed(url, origin, response)

    async def fetch_page(self, url: str, origin: Origin = LISTED) -> PageResponse:
        """GET a page, reading at most ``max_page_bytes`` of its decoded body."""
        return await self._with_retries(partial(self._page_attempt, url, origin))

    async def fetch_range(self, url: str, start: int, end: int, origin: Origin = LISTED) -> RangeResponse:
        """GET bytes ``[start, end)`` of an image: a follow-up to its prefix."""
        return await self._with_retries(partial(self._range_attempt, url, start, end, origin))

    async def fetch_any(self, url: str) -> ImageResponse | PageResponse:
        """A listed URL may be an image or a page: one Range GET, then sniff.

        An image is done after that request. A page answered with 200 (Range
        ignored, as dynamic pages are) is read on from the same response; a
        page answered with 206 (a static file) is fetched again whole.
        """
        result = await self._with_retries(partial(self._any_attempt, url))
        if isinstance(result, ImageResponse):
            return await self._decompressed(url, LISTED, result)
        return result if result is not None else await self.fetch_page(url)

    async def _decompressed(self, url: str, origin: Origin, response: ImageResponse) -> ImageResponse:
        """An image answered with a compressed range, read again from its start without Range.

        A compressed 206 holds the first bytes of the compressed file: its
        decoded bytes may fall short of the prefix, and no range of it can be
        asked for by file offset. When the second request fails, the first
        answer stands (its record says it was encoded).
        """
        if not (response.encoded and response.range_ignored is False):
            return response
        try:
            again = await self._with_retries(partial(self._image_attempt, url, origin, _IMAGE_HEADERS, False))
        except FetchError:
            return response
        return replace(again, bytes_fetched=response.bytes_fetched + again.bytes_fetched, range_ignored=False,
                       content_encoding=response.content_encoding)

    # -- attempts -------------------------------------------------------------

    async def _image_attempt(self, url: str, origin: Origin, headers: dict[str, str], ranged: bool = True) -> ImageResponse:
        async with self._stream(url, headers, origin) as final:
            chunks = _decoded(final.response)
            data = await _read_prefix(final.response, chunks, self._settings.fingerprint.prefix_bytes)
            return await self._image_answer(url, final, chunks, data, ranged)

    async def _image_answer(
        self, url: str, final: _Final, chunks: AsyncIterator[bytes], data: bytes, ranged: bool
    ) -> ImageResponse:
        """The image from its answer's first bytes; a whole-file answer is read on as far as the format needs."""
        response, limit = final.response, self._settings.fingerprint.prefix_bytes
        if response.status_code in (206, 416) or _is_html(response, data):  # a login or soft-404 page is not read on
            return _image_response(final, data, limit, ranged)
        declared = _identity_length(response.headers)
        ended = len(data) < limit or (declared is not None and len(data) >= declared)
        cap = self._settings.fingerprint.max_bytes_per_image
        found = await read_on(chunks, data, declared, ended, self._settings.fingerprint, _reader_within(response, cap))
        return _image_response(final, found.data, limit, ranged, found.whole)

    async def _range_attempt(self, url: str, start: int, end: int, origin: Origin) -> RangeResponse:
        if self.ignores_range(url):
            raise FetchError("range_ignored", f"{_host(url)} ignored Range before: no follow-up range sent")
        async with self._stream(url, _range_headers(start, end), origin) as final:
            response = final.response
            if response.status_code != 206:
                if response.status_code == 200:
                    self._ignore_range.add(_host(url))
                raise FetchError("range_ignored", f"asked for bytes {start}-{end - 1}, got HTTP {response.status_code}")
            if _encoding(response.headers) is not None:
                raise FetchError("encoded_range", f"bytes {start}-{end - 1} came compressed ({_encoding(response.headers)}): "
                                 "its offsets count compressed bytes")
            content_range_total(response.headers.get("content-range"), expect_start=start)
            data = await _read_prefix(response, _decoded(response), end - start)
            return RangeResponse(data[: end - start], response.num_bytes_downloaded)

    async def _page_attempt(self, url: str, origin: Origin) -> PageResponse:
        async with self._stream(url, {"Accept-Encoding": "gzip, deflate"}, origin) as final:  # what _decoded decodes
            body = await _read_up_to(_decoded(final.response), self._settings.limits.max_page_bytes + 1)
            return _page_response(final, body, self._settings.limits.max_page_bytes)

    async def _any_attempt(self, url: str) -> ImageResponse | PageResponse | None:
        """The image or the page at ``url``; None for a page cut by the Range."""
        async with self._stream(url, _range_headers(0, self._settings.fingerprint.prefix_bytes), LISTED) as final:
            response = final.response
            chunks = _decoded(response)
            limit = self._settings.fingerprint.prefix_bytes
            data = await _read_prefix(response, chunks, limit)
            if not _is_html(response, data):
                return await self._image_answer(url, final, chunks, data, True)
            if response.status_code == 206 and not _is_whole(response, data):
                return None
            cap = self._settings.limits.max_page_bytes
            body = data + await _read_up_to(chunks, cap + 1 - len(data))
            return _page_response(final, body, cap)

    # -- plumbing -------------------------------------------------------------

    @asynccontextmanager
    async def _stream(self, url: str, headers: dict[str, str], origin: Origin) -> AsyncIterator[_Final]:
        """One request, redirects followed hop by hop, each hop routed and checked on its own."""
        max_redirects = self._settings.limits.max_redirects
        for _hop in range(max_redirects + 1):
            route = self._route(url, origin)
            async with self._request(url, headers, route, origin.limit) as response:
                found = origin.found_on(
                    route.proxy is not None, self._zone(response, route), self._settings.safety.allow_private_targets
                )
                target = _redirect_target(response)
                if target is None:
                    await _raise_for_status(response)
                    yield _Final(response, route.proxy is not None, self._tls_verified(response.url), found)
                    return
                await _finish_short_body(response)
            url, origin = target, found
        raise FetchError("redirects", f"more than {max_redirects} redirects (limits.max_redirects)")

    @asynccontextmanager
    async def _request(self, url: str, headers: dict[str, str], route: Route, limit: Zone | None) -> AsyncIterator[httpx.Response]:
        """One hop under the limits and its route's total timeout, with httpx errors mapped to ours.

        A host given up on fails at once; a failure before any answer counts
        towards giving up on the host (an answer that is slow or cut is the
        resource's problem, not a sign the host is gone).
        """
        host = (urlsplit(url).hostname or "").lower()
        total = self._total_timeout(route)
        self._check_reachable(host)
        # Per host first: a request waiting for its host must not hold an overall slot.
        async with self._host_slots.hold(host):
            self._check_reachable(host)
            answered = False
            async with self._token(probe=self.hosts.state(host) != "alive") as shard:
                client = self._client(route, limit, self._verifies(host), shard)
                try:
                    async with asyncio.timeout(total):
                        async with client.stream("GET", url, headers=headers) as response:
                            answered = True
                            self.hosts.answered(host)
                            yield response
                except TimeoutError:
                    error: FetchError = TransientError("timeout", f"no complete answer within {total:g} s")
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    error = _map_error(exc)
                else:
                    return
                if not answered:
                    self.hosts.failed(host, error.kind, error.message)
                raise error

    def _check_reachable(self, host: str) -> None:
        if self.hosts.state(host) == "unreachable":
            raise FetchError("host_unreachable", self.hosts.why_unreachable(host))

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

    def _verifies(self, host: str) -> bool:
        """Whether a certificate from ``host`` must verify: always, unless it is an onion service and the user said not."""
        return self._settings.safety.verify_onion_tls or not is_onion(host)

    def _tls_verified(self, url: httpx.URL) -> bool | None:
        return self._verifies(url.host) if url.scheme == "https" else None

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` (a coroutine function) under the retry policy."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retry_now),
            stop=self._stop,
            wait=self._wait,
            reraise=True,
        )
        return await retrying(attempt)

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self._settings.retries.attempts:
            return True
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return retry_after is not None and retry_after > self._settings.retries.max_retry_after

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        policy = self._settings.retries
        return float(min(policy.max_backoff, policy.backoff * 2 ** (state.attempt_number - 1)))

    def _total_timeout(self, route: Route) -> float:
        timeouts = self._settings.timeouts
        return timeouts.total if route.proxy is None else timeouts.onion_total

    @asynccontextmanager
    async def _token(self, probe: bool) -> AsyncIterator[int]:
        """Hold an overall slot, or a probe token for a host not heard from yet; yields its pool number."""
        tokens = self._probes if probe else self._slots
        shard = await tokens.get()
        try:
            yield shard
        finally:
            tokens.put_nowait(shard)

    def _client(self, route: Route, limit: Zone | None, verify: bool, shard: int) -> httpx.AsyncClient:
        """The client for a hop on ``route`` under ``limit``, holding a slot of pool ``shard``.

        Clients are keyed by route, zone limit and certificate check, so a
        pooled connection is never reused under another limit. httpcore's pool
        scans all its connections for every request, so its CPU cost per
        request grows with the pool: measured on loopback with 64 requests in
        flight, 1.6 ms per request in one pool of 64 and 0.4 ms in 16 pools of
        4. Direct requests therefore use pools of ``_POOL_SIZE`` connections,
        one per group of slots; a proxied (onion) route has a client of its
        own, limited by ``per_host``, under which the zone limit does not apply.
        The price of the zone key: a public page's connection does not serve
        the images found on it (they may only reach public addresses).
        """
        proxied = route.proxy is not None
        # No limit and the loopback limit allow the same (loopback is the most private zone):
        # one client, so a loopback page's connection serves its images too.
        limit = None if proxied or limit == Zone.LOOPBACK else limit
        key = (route, limit, verify, 0 if proxied else shard)
        if key not in self._clients:
            self._clients[key] = self._new_client(route, limit, verify)
        return self._clients[key]

    def _new_client(self, route: Route, limit: Zone | None, verify: bool) -> httpx.AsyncClient:
        s = self._settings
        onion = route.proxy is not None
        timeout = httpx.Timeout(
            connect=s.timeouts.onion_connect if onion else s.timeouts.connect,
            read=s.timeouts.onion_read if onion else s.timeouts.read,
            write=s.timeouts.onion_read if onion else s.timeouts.read,
            pool=None,  # waiting for a connection is bounded by our semaphores
        )
        size = s.limits.per_host if onion else _POOL_SIZE
        return httpx.AsyncClient(
            headers={"User-Agent": s.http.user_agent},
            timeout=timeout,
            follow_redirects=False,  # _stream follows them, checking each hop
            trust_env=False,  # no proxy from the environment: routes are decided here
            transport=self._transport or self._transport_for(route, limit, verify, size),
        )

    def _transport_for(self, route: Route, limit: Zone | None, verify: bool, size: int) -> httpx.AsyncHTTPTransport:
        backend: connect.DirectBackend | connect.SocksBackend
        if route.proxy is not None:
            backend = connect.SocksBackend(route)
        else:
            backend = connect.DirectBackend(self._zones, limit)
        return connect.transport(backend, self._tls if verify else self._unverified_tls(), size)

    def _unverified_tls(self) -> ssl.SSLContext:
        if self._unverified is None:
            self._unverified = httpx.create_ssl_context(verify=False)
        return self._unverified


def _retry_now(exc: BaseException) -> bool:
    """The retry policy: what the error kind table says (``crawler.errors.RETRY``)."""
    return isinstance(exc, FetchError) and retries_now(exc.kind)


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


# Image requests ask for the file as stored. Accept names the classic formats at full weight and
# never webp or avif: image CDNs (and negotiating servers) convert to those when a client lists them,
# and a converted copy has other bytes, hashes and often no EXIF. image/* and */* at lower weights
# still take whatever the server has (an original WebP, an SVG, an HTML page for fetch_any).
_IMAGE_HEADERS = {
    "Accept": "image/jpeg,image/png,image/gif,image/*;q=0.8,*/*;q=0.5",
    "Accept-Encoding": "identity",
}


def _range_headers(start: int, end: int) -> dict[str, str]:
    """Headers asking for bytes ``[start, end)`` as they are stored (ranges are inclusive in HTTP)."""
    return {**_IMAGE_HEADERS, "Range": f"bytes={start}-{end - 1}"}


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


async def _read_up_to(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """Read from a response's chunk iterator until at least ``limit`` bytes or its end.

    The last chunk is kept whole (the result may pass ``limit``): a caller that
    reads on from the same iterator must not lose the bytes past the limit.
    """
    buffer = bytearray()
    if limit <= 0:
        return b""
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) >= limit:
            break
    return bytes(buffer)


def _reader_within(response: httpx.Response, cap: int) -> Reader:
    """A reader for :func:`crawler.net.read_on.read_on` that starts no network read which could pass ``cap`` bytes."""

    async def read(chunks: AsyncIterator[bytes], wanted: int) -> tuple[bytes, bool]:
        buffer = bytearray()
        while len(buffer) < wanted and response.num_bytes_downloaded + _NETWORK_READ <= cap:
            chunk = await anext(chunks, None)
            if chunk is None:
                return bytes(buffer), True
            buffer += chunk
        return bytes(buffer), False

    return read


async def _read_prefix(response: httpx.Response, chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """An image's first bytes; none from a 416, whose body is the server's error page.

    A body that fits in ``limit`` (a 206 of exactly the range) is read to its
    end: a response left unfinished makes httpcore close the connection, and
    every next request would pay a new connection's round trip.
    """
    if response.status_code == 416:
        return b""
    declared = _identity_length(response.headers)
    if declared is not None and declared <= limit:
        limit = declared + 1
    return await _read_up_to(chunks, limit)


async def _decoded(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body, decoded in bounded pieces: httpx would expand a gzip bomb's read whole."""
    decoder = BodyDecoder(response.headers.get("content-encoding"))
    async for raw in response.aiter_raw():
        for piece in decoder.feed(raw):
            yield piece
    for piece in decoder.finish():
        yield piece


def _is_html(response: httpx.Response, data: bytes) -> bool:
    # A 416 answers for an empty file, never a page, whatever error page it carries.
    return response.status_code != 416 and answers_html(data, response.headers.get("content-type"))


def _is_whole(response: httpx.Response, data: bytes) -> bool:
    """True when a 206 answer holds the whole resource (it fits in the range)."""
    total = content_range_total(response.headers.get("content-range"), expect_start=0)
    return total is not None and len(data) >= total


def _image_response(final: _Final, body: bytes, limit: int, ranged: bool, whole: bool = False) -> ImageResponse:
    """The image's answer; ``body`` is what was read from offset 0, ``whole`` when it is the whole file."""
    response = final.response
    headers = response.headers
    encoding = _encoding(headers)
    total: int | None
    if response.status_code in (206, 416):
        # A compressed answer's Content-Range counts compressed bytes: no size from it.
        total = None if encoding else content_range_total(headers.get("content-range"), 0 if response.status_code == 206 else None)
    else:
        total = len(body) if whole else _identity_length(headers)
    return ImageResponse(
        url=str(response.url),
        data=body[:limit],
        rest=body[limit:] if response.status_code == 200 else b"",  # a 206 carries only the prefix asked for
        whole=whole or (total is not None and len(body) >= total),
        range_ignored=None if not ranged or response.status_code == 416 else response.status_code != 206,
        content_encoding=encoding,
        total_size=total,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        content_type=headers.get("content-type"),
        bytes_fetched=response.num_bytes_downloaded,
        via_tor=final.via_tor,
        tls_verified=final.tls_verified,
    )


def _page_response(final: _Final, body: bytes, cap: int) -> PageResponse:
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


def _encoding(headers: httpx.Headers) -> str | None:
    """Content-Encoding as sent; None when the body is not encoded."""
    value = headers.get("content-encoding", "").strip()
    return None if value.lower() in ("identity", "") else value


def _identity_length(headers: httpx.Headers) -> int | None:
    """Content-Length is the image's size only for an unencoded body."""
    if _encoding(headers) is not None:
        return None
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


async def _raise_for_status(response: httpx.Response) -> None:
    """Raise for an error status, after reading a short error page to its end.

    An unread body would make httpcore close the connection; a site whose
    pages hold a few broken image links would then cost a new connection
    (a round trip, on Tor several) per broken link.
    """
    code = response.status_code
    if code < 400 or code == 416:
        return
    await _finish_short_body(response)
    where = redact_url(str(response.url))
    if code == 429 or code >= 500:
        kind = "http_429" if code == 429 else "http_5xx"
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise TransientError(kind, f"HTTP {code} from {where}", retry_after)
    raise FetchError(f"http_{code}", f"HTTP {code} from {where}")


async def _finish_short_body(response: httpx.Response) -> None:
    """Read a short body (error page, redirect) to its end, so its connection can serve the next request."""
    declared = _identity_length(response.headers)
    if declared is not None and declared <= _ERROR_BODY_BYTES:
        await _read_up_to(response.aiter_raw(), declared + 1)


def _map_error(exc: httpx.HTTPError | httpx.InvalidURL) -> FetchError:
    """The one place where httpx's exceptions become ours (SOCKS errors are ours already: crawler.net.connect)."""
    detail = redact_text(_detail(exc))  # httpx quotes URLs, with their credentials
    if isinstance(exc, httpx.TimeoutException):
        return TransientError("timeout", f"timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        if _is_tls(exc):
            return FetchError("tls", f"TLS error: {detail}")
        return TransientError("connect", f"cannot connect: {detail}")
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return FetchError("bad_url", f"cannot fetch this URL: {detail}")
    if isinstance(exc, httpx.RemoteProtocolError) and "buffer too long" in str(exc):
        # h11 (under httpcore) stops at 100 KiB of unfinished status line and headers: retrying gets the same
        return FetchError("headers_too_large", "the server sent over 100 KiB of headers")
    if isinstance(exc, httpx.DecodingError):
        return FetchError("decoding", f"body could not be decoded: {detail}")
    if isinstance(exc, httpx.TransportError):
        return TransientError("network", f"connection failed mid-answer: {detail}")
    return FetchError("http", f"{type(exc).__name__}: {detail}")


def _is_tls(exc: httpx.ConnectError) -> bool:
    """True when the TLS handshake failed: an SSLError down the chain (httpx and httpcore each wrap it)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "CERTIFICATE" in str(exc).upper()


def _detail(exc: BaseException) -> str:
    """An exception's message, or its type's name when it has none (httpx's ReadError often has none)."""
    return str(exc) or type(exc).__name__
