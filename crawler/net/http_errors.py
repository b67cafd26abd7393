"""The one place where httpx's exceptions and HTTP error statuses become ours.

SOCKS errors are ours already (:mod:`crawler.net.connect`). httpx quotes URLs
in its messages, credentials and all: every message is redacted.
"""

from __future__ import annotations

import ssl

import httpx

from crawler.errors import FetchError, TransientError, detail
from crawler.net.bodies import finish_short_body
from crawler.net.headers import parse_retry_after
from crawler.redact import redact_text, redact_url


def map_error(exc: httpx.HTTPError | httpx.InvalidURL) -> FetchError:
    """The error of ours for one of httpx's."""
    text = redact_text(detail(exc))
    if isinstance(exc, httpx.TimeoutException):
        return TransientError("timeout", f"timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        if _is_tls(exc):
            return FetchError("tls", f"TLS error: {text}")
        return TransientError("connect", f"cannot connect: {text}")
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return FetchError("bad_url", f"cannot fetch this URL: {text}")
    if isinstance(exc, httpx.RemoteProtocolError) and "buffer too long" in str(exc):
        # h11 (under httpcore) stops at 100 KiB of unfinished status line and headers: retrying gets the same
        return FetchError("headers_too_large", "the server sent over 100 KiB of headers")
    if isinstance(exc, httpx.DecodingError):
        return FetchError("decoding", f"body could not be decoded: {text}")
    if isinstance(exc, httpx.TransportError):
        return TransientError("network", f"connection failed mid-answer: {text}")
    return FetchError("http", f"{type(exc).__name__}: {text}")


async def raise_for_status(response: httpx.Response) -> None:
    """Raise for an error status, after reading a short error page to its end.

    An unread body would make httpcore close the connection; a site whose
    pages hold a few broken image links would then cost a new connection
    (a round trip, on Tor several) per broken link.
    """
    code = response.status_code
    if code < 400 or code == 416:
        return
    await finish_short_body(response)
    where = redact_url(str(response.url))
    if code == 429 or code >= 500:
        kind = "http_429" if code == 429 else "http_5xx"
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise TransientError(kind, f"HTTP {code} from {where}", retry_after)
    raise FetchError(f"http_{code}", f"HTTP {code} from {where}")


def _is_tls(exc: httpx.ConnectError) -> bool:
    """True when the TLS handshake failed: an SSLError down the chain (httpx and httpcore each wrap it)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "CERTIFICATE" in str(exc).upper()
