"""Bounded Content-Encoding decoding: same bytes as zlib, in pieces that never balloon."""

from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.errors import FetchError
from crawler.net.decoding import PIECE_BYTES, BodyDecoder


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODERS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "identity": lambda data: data,
}


def decode(encoding: str | None, body: bytes, cuts: list[int] | None = None) -> list[bytes]:
    decoder = BodyDecoder(encoding)
    bounds = [0, *sorted(cuts or []), len(body)]
    pieces = [piece for start, end in zip(bounds, bounds[1:]) for piece in decoder.feed(body[start:end])]
    return pieces + list(decoder.finish())


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(ENCODERS)), st.binary(max_size=5000), st.lists(st.integers(0, 6000), max_size=6))
def test_any_body_cut_anywhere_decodes_to_the_original(encoding: str, data: bytes, cuts: list[int]) -> None:
    body = ENCODERS[encoding](data)
    assert b"".join(decode(encoding, body, [cut for cut in cuts if cut <= len(body)])) == data


def test_raw_deflate_without_the_zlib_wrapper_is_accepted() -> None:
    data = b"<html>" + b"x" * 10_000
    assert b"".join(decode("deflate", raw_deflate(data), [3])) == data


def test_stacked_codings_are_undone_in_reverse_order() -> None:
    data = b"twice compressed " * 500
    assert b"".join(decode("deflate, gzip", gzip.compress(zlib.compress(data)))) == data


@pytest.mark.parametrize("encoding", [None, "", "br", "utf-8"])
def test_no_or_unknown_coding_passes_the_bytes_through(encoding: str | None) -> None:
    assert decode(encoding, b"as sent", [2]) == [b"as", b" sent"]


def test_a_bomb_comes_out_in_bounded_pieces() -> None:
    bomb = gzip.compress(bytes(64 * 1024 * 1024), 9)  # 64 MiB in about 64 KB
    decoder = BodyDecoder("gzip")
    pieces = decoder.feed(bomb)
    first = next(pieces)
    assert len(first) <= PIECE_BYTES
    assert all(len(piece) <= PIECE_BYTES for _, piece in zip(range(100), pieces))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_garbage_is_a_decoding_error(encoding: str) -> None:
    with pytest.raises(FetchError) as caught:
        decode(encoding, b"\x1f\x8b this is not compressed at all" * 10)
    assert caught.value.kind == "decoding"
