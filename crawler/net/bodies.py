"""Reading an answer's body: decoded in bounded pieces, only as far as needed, never more than the caps.

An answer's body is read as a stream of decoded pieces (:func:`decoded`).
What is left unread matters: a response left unfinished makes httpcore close
its connection, and every next request would pay a new connection's round
trip; so short bodies (a 206 of exactly the range, an error page, a
redirect) are read to their end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from crawler.fingerprint.sniff import answers_html
from crawler.net.decoding import BodyDecoder
from crawler.net.headers import content_range_total
from crawler.net.read_on import Reader

_NETWORK_READ = 65536  # httpcore reads the socket in pieces of up to this many bytes
_SHORT_BODY_BYTES = 65536  # error pages and redirects up to this size are read, keeping the connection


async def decoded(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body, decoded in bounded pieces: httpx would expand a gzip bomb's read whole."""
    decoder = BodyDecoder(response.headers.get("content-encoding"))
    async for raw in response.aiter_raw():
        for piece in decoder.feed(raw):
            yield piece
    for piece in decoder.finish():
        yield piece


async def read_up_to(chunks: AsyncIterator[bytes], limit: int) -> bytes:
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


async def read_prefix(response: httpx.Response, chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """An image's first bytes; none from a 416, whose body is the server's error page.

    A body that fits in ``limit`` (a 206 of exactly the range) is read to its end.
    """
    if response.status_code == 416:
        return b""
    declared = identity_length(response.headers)
    if declared is not None and declared <= limit:
        limit = declared + 1
    return await read_up_to(chunks, limit)


def reader_within(response: httpx.Response, cap: int) -> Reader:
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


async def finish_short_body(response: httpx.Response) -> None:
    """Read a short body (error page, redirect) to its end, so its connection can serve the next request."""
    declared = identity_length(response.headers)
    if declared is not None and declared <= _SHORT_BODY_BYTES:
        await read_up_to(response.aiter_raw(), declared + 1)


def encoding(headers: httpx.Headers) -> str | None:
    """Content-Encoding as sent; None when the body is not encoded."""
    value = headers.get("content-encoding", "").strip()
    return None if value.lower() in ("identity", "") else value


def identity_length(headers: httpx.Headers) -> int | None:
    """Content-Length is the image's size only for an unencoded body."""
    if encoding(headers) is not None:
        return None
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def is_html(response: httpx.Response, data: bytes) -> bool:
    """Whether the answer is a page (a login or soft-404 page where an image was asked for)."""
    # A 416 answers for an empty file, never a page, whatever error page it carries.
    return response.status_code != 416 and answers_html(data, response.headers.get("content-type"))


def is_whole(response: httpx.Response, data: bytes) -> bool:
    """True when a 206 answer holds the whole resource (it fits in the range)."""
    total = content_range_total(response.headers.get("content-range"), expect_start=0)
    return total is not None and len(data) >= total
