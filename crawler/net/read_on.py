"""How far to read an image's answer that is not a byte range: as far as its format needs, within the cap.

A server that ignores Range (200) sends the whole file, and one that
compresses anyway sends ranges of the compressed file, whose offsets are no
use to the plan. Either way the image can only be read forward from its first
byte, so instead of sending follow-up ranges the crawler reads on from the
same answer: it asks the range plan (:class:`crawler.fingerprint.plan.Rounds`)
what the bytes so far still lack, reads on to the furthest offset it names
(a stream only moves forward), and asks again, until nothing is missing, the
per-image cap is reached, the rounds run out or the answer ends. An answer
without a size is read at least past ``min_image_bytes``, so that a small
image is known to be small.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from crawler.fingerprint.plan import RangePolicy, Rounds
from crawler.fingerprint.sparse import SparseBuffer
from crawler.settings import FingerprintSettings

# (chunks, n) -> (at least n bytes unless stopped short, whether the answer ended)
Reader = Callable[[AsyncIterator[bytes], int], Awaitable[tuple[bytes, bool]]]


@dataclass(frozen=True)
class ReadOn:
    """The answer's bytes from offset 0, and whether they are the whole file."""

    data: bytes
    whole: bool


async def read_on(
    chunks: AsyncIterator[bytes],
    data: bytes,
    declared: int | None,
    ended: bool,
    settings: FingerprintSettings,
    read: Reader,
) -> ReadOn:
    """``data`` (read from ``chunks`` already) and what the plan still needs of the rest, at most the cap.

    ``declared`` is the size the headers gave, if any; ``ended`` says the
    answer ended within ``data``; ``read`` reads on from ``chunks`` and may
    stop short (the fetcher's reader does, before a network read could take
    the answer past the cap).
    """
    cap = settings.max_bytes_per_image
    body = bytearray(data)
    whole = ended
    # Without a size, only reading past the minimum tells whether an image is under it (records.assess).
    floor = settings.min_image_bytes + 1 if declared is None else 0
    for _round in range(settings.max_rounds + 1):
        target = min(cap, max(floor, _furthest_need(bytes(body), len(body) if whole else declared, settings)))
        if whole or target <= len(body):
            break
        wanted = target - len(body)
        more, ended = await read(chunks, wanted)
        body += more
        whole = ended or (declared is not None and len(body) >= declared)
        if len(more) < wanted and not whole:  # the reader stopped at the cap
            break
    kept = bytes(body[:cap])
    return ReadOn(kept, whole and len(body) <= cap)


def _furthest_need(data: bytes, total: int | None, settings: FingerprintSettings) -> int:
    """The furthest offset the plan's next round asks for; 0 when it asks for nothing."""
    buffer = SparseBuffer.of(data, total)
    # The stream costs every byte up to an offset, not just the ranges: the cap is applied to offsets by the caller.
    policy = RangePolicy(cap_bytes=settings.max_bytes_per_image + len(data), max_rounds=1,
                         content_bytes=settings.content_bytes)
    planned = next(iter(Rounds(buffer, policy)), [])
    return max((end for _start, end in planned), default=0)
