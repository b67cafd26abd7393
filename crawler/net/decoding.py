"""Content-Encoding decoding that never expands a whole network read at once.

httpx decodes each network read in one call, so one 64 KB read of a gzip
bomb becomes some 64 MB in memory before anyone can count it (measured: 190
MB allocated to read a 5 MiB-capped page). Here zlib is given ``max_length``:
the body comes out in pieces of at most :data:`PIECE_BYTES`, and a reader
that stops at its cap has held little more than the cap. Like httpx, it
decodes ``gzip`` and ``deflate`` (zlib-wrapped or raw), in the reverse order
of the header's list, and passes unknown codings through. Pure: no I/O.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from crawler.errors import FetchError

PIECE_BYTES = 64 * 1024
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class _Inflater:
    """One zlib coding, inflated in bounded pieces."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._engine = zlib.decompressobj(_WBITS[coding])
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            piece, data = self._inflate(data), self._engine.unconsumed_tail
            if piece:
                yield piece

    def end(self) -> bytes:
        try:
            return self._engine.flush()
        except zlib.error as exc:
            raise _error(self._coding, exc) from None

    def _inflate(self, data: bytes) -> bytes:
        first, self._started = not self._started, True
        try:
            return self._engine.decompress(data, PIECE_BYTES)
        except zlib.error as exc:
            if not (first and self._coding == "deflate"):
                raise _error(self._coding, exc) from None
        # "deflate" is often sent raw, without the zlib wrapper: retry that way, as httpx does.
        self._engine = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._inflate(data)


class BodyDecoder:
    """Decodes one body: ``feed(raw)`` for each read, then ``finish()``; both yield decoded pieces."""

    def __init__(self, content_encoding: str | None) -> None:
        codings = [coding.strip().lower() for coding in (content_encoding or "").split(",")]
        self._stages = [_Inflater(coding) for coding in reversed(codings) if coding in _WBITS]

    def feed(self, raw: bytes) -> Iterator[bytes]:
        return _through(self._stages, raw)

    def finish(self) -> Iterator[bytes]:
        for index, stage in enumerate(self._stages):
            yield from _through(self._stages[index + 1 :], stage.end())


def _through(stages: list[_Inflater], data: bytes) -> Iterator[bytes]:
    if not stages:
        if data:
            yield data
        return
    for piece in stages[0].feed(data):
        yield from _through(stages[1:], piece)


def _error(coding: str, exc: zlib.error) -> FetchError:
    return FetchError("decoding", f"body could not be decoded ({coding}): {exc}")
