"""HTTP: the only module that knows httpx.

It owns the clients (direct, and one per ``.onion`` host through its SOCKS5
proxy), the concurrency limits (overall and per host), the retry policy
(tenacity) and the one choke point that maps httpx's exceptions to ours.

Images are fetched with one ``GET`` and ``Range: bytes=0-N``: the answer
gives both the first bytes and, from ``Content-Range``, the total size. When a
server ignores Range (200), reading stops at the prefix and the connection is
closed. There is never a HEAD request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
from socksio import SOCKSError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from crawler.answers import ImageResponse, PageResponse, RangeResponse
from crawler.errors import FetchError, TransientError
from crawler.fingerprint.sniff import answers_html
from crawler.net.decoding import BodyDecoder
from crawler.net.headers import content_range_total, parse_retry_after
from crawler.net.hosts import HostHealth
from crawler.net.tor import Route, route_for
from crawler.settings import Settings

T = TypeVar("T")
_POOL_SIZE = 4  # connections per direct client; see Fetcher._client
_ERROR_BODY_BYTES = 65536  # error pages up to this size are read, keeping the connection


class Fetcher:
    """Fetches prefixes and pages under the settings' limits. Use as ``async with``."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._transport = transport  # tests inject one; None means real sockets
        self._clients: dict[tuple[Route, int], httpx.AsyncClient] = {}
        self._tls = httpx.create_ssl_context()  # one for all clients: each costs ~20 ms to build
        # The overall limit as tokens, each naming the pool (shard) its holder
        # uses: _POOL_SIZE tokens per pool, so no pool has more requests in
        # flight than connections (see _client).
        self._slots: asyncio.Queue[int] = asyncio.Queue()
        for token in range(settings.limits.concurrency):
            self._slots.put_nowait(token // _POOL_SIZE)
        self._per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.limits.per_host)
        )
        # Requests to hosts that have not answered yet take probe tokens instead
        # of overall slots, so dead hosts cannot hold the overall limit; the
        # shard numbers go on after the slots' pools.
        self._probes: asyncio.Queue[int] = asyncio.Queue()
        first = settings.limits.concurrency // _POOL_SIZE + 1
        for token in range(settings.limits.probing):
            self._probes.put_nowait(first + token // _POOL_SIZE)
        self.hosts = HostHealth(settings.limits.dead_host_failures)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))
        self._clients.clear()

    async def fetch_image(self, url: str) -> ImageResponse:
        """GET the image's first ``prefix_bytes`` with a Range request."""
        return await self._with_retries(partial(self._image_attempt, url))

    async def fetch_page(self, url: str) -> PageResponse:
        """GET a page, reading at most ``max_page_bytes`` of its decoded body."""
        return await self._with_retries(partial(self._page_attempt, url))

    async def fetch_range(self, url: str, start: int, end: int) -> RangeResponse:
        """GET bytes ``[start, end)`` of an image: a follow-up to its prefix."""
        return await self._with_retries(partial(self._range_attempt, url, start, end))

    async def fetch_any(self, url: str) -> ImageResponse | PageResponse:
        """A listed URL may be an image or a page: one Range GET, then sniff.

        An image is done after that request. A page answered with 200 (Range
        ignored, as dynamic pages are) is read on from the same response; a
        page answered with 206 (a static file) is fetched again whole.
        """
        result = await self._with_retries(partial(self._any_attempt, url))
        return result if result is not None else await self.fetch_page(url)

    # -- attempts -------------------------------------------------------------

    async def _image_attempt(self, url: str) -> ImageResponse:
        async with self._stream(url, _range_headers(0, self._settings.fingerprint.prefix_bytes)) as response:
            limit = self._settings.fingerprint.prefix_bytes
            data = await _read_prefix(response, _decoded(response), limit)
            return _image_response(response, data, limit)

    async def _range_attempt(self, url: str, start: int, end: int) -> RangeResponse:
        async with self._stream(url, _range_headers(start, end)) as response:
            if response.status_code != 206:
                raise FetchError("range_ignored", f"asked for bytes {start}-{end - 1}, got HTTP {response.status_code}")
            content_range_total(response.headers.get("content-range"), expect_start=start)
            data = await _read_prefix(response, _decoded(response), end - start)
            return RangeResponse(data[: end - start], response.num_bytes_downloaded)

    async def _page_attempt(self, url: str) -> PageResponse:
        async with self._stream(url, {"Accept-Encoding": "gzip, deflate"}) as response:  # what _decoded decodes
            body = await _read_up_to(_decoded(response), self._settings.limits.max_page_bytes + 1)
            return _page_response(response, body, self._settings.limits.max_page_bytes)

    async def _any_attempt(self, url: str) -> ImageResponse | PageResponse | None:
        """The image or the page at ``url``; None for a page cut by the Range."""
        async with self._stream(url, _range_headers(0, self._settings.fingerprint.prefix_bytes)) as response:
            chunks = _decoded(response)
            limit = self._settings.fingerprint.prefix_bytes
            data = await _read_prefix(response, chunks, limit)
            if not _is_html(response, data):
                return _image_response(response, data, limit)
            if response.status_code == 206 and not _is_whole(response, data):
                return None
            cap = self._settings.limits.max_page_bytes
            body = data + await _read_up_to(chunks, cap + 1 - len(data))
            return _page_response(response, body, cap)

    # -- plumbing -------------------------------------------------------------

    @asynccontextmanager
    async def _stream(self, url: str, headers: dict[str, str]) -> AsyncIterator[httpx.Response]:
        """One request under the limits, with httpx errors mapped to ours.

        A host given up on fails at once; a failure before any answer counts
        towards giving up on the host (an answer that is slow or cut is the
        resource's problem, not a sign the host is gone).
        """
        host = (urlsplit(url).hostname or "").lower()
        route = self._route(host)
        total = self._total_timeout(route)
        self._check_reachable(host)
        # Per host first: a request waiting for its host must not hold an overall slot.
        async with self._per_host[host]:
            self._check_reachable(host)
            answered = False
            async with self._token(probe=self.hosts.state(host) != "alive") as shard:
                try:
                    async with asyncio.timeout(total):
                        async with self._client(route, shard).stream("GET", url, headers=headers) as response:
                            answered = True
                            self.hosts.answered(host)
                            await _raise_for_status(response)
                            yield response
                except TimeoutError:
                    error: FetchError = TransientError("timeout", f"no complete answer within {total:g} s")
                except (httpx.HTTPError, SOCKSError) as exc:  # httpx lets socksio's errors through
                    error = _map_error(exc, route)
                else:
                    return
                if not answered:
                    self.hosts.failed(host, error.kind, error.message)
                raise error

    def _check_reachable(self, host: str) -> None:
        if self.hosts.state(host) == "unreachable":
            raise FetchError("host_unreachable", self.hosts.why_unreachable(host))

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` (a coroutine function) under the retry policy."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientError),
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

    def _route(self, host: str) -> Route:
        tor = self._settings.tor
        return route_for(host, tor.proxies, tor.route_all)

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

    def _client(self, route: Route, shard: int) -> httpx.AsyncClient:
        """The client for a request on ``route`` holding a slot of pool ``shard``.

        httpcore's pool scans all its connections for every request, so its
        CPU cost per request grows with the pool: measured on loopback with
        64 requests in flight, 1.6 ms per request in one pool of 64 and
        0.4 ms in 16 pools of 4. Direct requests therefore use pools of
        ``_POOL_SIZE`` connections, one per group of slots; a proxied (onion)
        route has a client of its own, limited by ``per_host``.
        """
        key = (route, 0 if route.proxy is not None else shard)
        if key not in self._clients:
            self._clients[key] = self._new_client(route)
        return self._clients[key]

    def _new_client(self, route: Route) -> httpx.AsyncClient:
        s = self._settings
        onion = route.proxy is not None
        timeout = httpx.Timeout(
            connect=s.timeouts.onion_connect if onion else s.timeouts.connect,
            read=s.timeouts.onion_read if onion else s.timeouts.read,
            write=s.timeouts.onion_read if onion else s.timeouts.read,
            pool=None,  # waiting for a connection is bounded by our semaphores
        )
        size = s.limits.per_host if onion else _POOL_SIZE
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        return httpx.AsyncClient(
            headers={"User-Agent": s.http.user_agent},
            timeout=timeout,
            limits=limits,
            follow_redirects=True,
            max_redirects=s.limits.max_redirects,
            proxy=route.proxy_url,
            verify=self._tls,
            transport=self._transport,
        )


def _range_headers(start: int, end: int) -> dict[str, str]:
    """Headers asking for bytes ``[start, end)`` as they are stored (ranges are inclusive in HTTP)."""
    return {"Range": f"bytes={start}-{end - 1}", "Accept-Encoding": "identity"}


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


def _image_response(response: httpx.Response, data: bytes, limit: int) -> ImageResponse:
    headers = response.headers
    data = data[:limit]
    if response.status_code in (206, 416):
        total = content_range_total(headers.get("content-range"), 0 if response.status_code == 206 else None)
    else:
        total = _identity_length(headers)
        if total is None and len(data) < limit:  # the whole body came, so that is its size
            total = len(data)
    return ImageResponse(
        url=str(response.url),
        data=data,
        total_size=total,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        content_type=headers.get("content-type"),
        bytes_fetched=response.num_bytes_downloaded,
    )


def _page_response(response: httpx.Response, body: bytes, cap: int) -> PageResponse:
    return PageResponse(
        url=str(response.url),
        body=body[:cap],
        encoding=response.charset_encoding,
        truncated=len(body) > cap,
        bytes_fetched=response.num_bytes_downloaded,
    )


def _identity_length(headers: httpx.Headers) -> int | None:
    """Content-Length is the image's size only for an unencoded body."""
    if headers.get("content-encoding", "identity").lower() not in ("identity", ""):
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
    declared = _identity_length(response.headers)
    if declared is not None and declared <= _ERROR_BODY_BYTES:
        await _read_up_to(response.aiter_raw(), declared + 1)
    if code == 429 or code >= 500:
        kind = "http_429" if code == 429 else "http_5xx"
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise TransientError(kind, f"HTTP {code} from {response.url}", retry_after)
    raise FetchError(f"http_{code}", f"HTTP {code} from {response.url}")


def _map_error(exc: httpx.HTTPError | SOCKSError, route: Route) -> FetchError:
    """The one place where httpx's exceptions (and socksio's, which httpx lets through) become ours."""
    if route.proxy is not None:
        proxy_error = _proxy_error(exc, route.proxy)
        if proxy_error is not None:
            return proxy_error
    if isinstance(exc, httpx.ProxyError):
        return TransientError("proxy", f"proxy error: {_detail(exc)}")
    if isinstance(exc, httpx.TimeoutException):
        return TransientError("timeout", f"timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        if _is_tls(exc):
            return FetchError("tls", f"TLS error: {exc}")
        return TransientError("connect", f"cannot connect: {exc}")
    if isinstance(exc, httpx.TooManyRedirects):
        return FetchError("redirects", f"too many redirects: {exc}")
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return FetchError("bad_url", f"cannot fetch this URL: {exc}")
    if isinstance(exc, httpx.DecodingError):
        return FetchError("decoding", f"body could not be decoded: {exc}")
    if isinstance(exc, httpx.TransportError):
        return TransientError("network", f"connection failed mid-answer: {_detail(exc)}")
    return FetchError("http", f"{type(exc).__name__}: {exc}")


def _proxy_error(exc: httpx.HTTPError | SOCKSError, proxy: str) -> TransientError | None:
    """A failure of the SOCKS proxy itself, not of the host behind it; None for anything else.

    Through SOCKS, a ConnectError is the proxy refusing the TCP connection,
    unless it is the TLS handshake with the host behind the proxy failing.
    """
    where = f"Tor SOCKS proxy at {proxy}"
    if isinstance(exc, SOCKSError):
        return TransientError("proxy", f"{where} did not answer as a SOCKS5 proxy ({_detail(exc)})")
    if isinstance(exc, httpx.ProxyError):  # a SOCKS error reply: host unreachable, refused ...
        return TransientError("proxy", f"{where} answered with an error: {_detail(exc)}")
    if isinstance(exc, httpx.ConnectError) and not _is_tls(exc):
        return TransientError("proxy", f"{where} is not reachable ({_detail(exc)})")
    return None


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
