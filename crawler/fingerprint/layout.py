"""What a format parser reports: :class:`Layout`, and the :class:`Draft` it fills in.

A layout says what the picture is (format, size, progressive), where its
metadata and image data lie, a hash of what defines the picture, and which
byte ranges are still needed to say more. A parser never raises: when the
buffer lacks bytes it records them in ``needs`` and goes on with what does not
depend on them, so one round of fetching can fill several gaps at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from crawler.fingerprint.band import BandHash
from crawler.fingerprint.ranges import Range, clamp, normalize, subtract
from crawler.fingerprint.sparse import NeedBytes, SparseBuffer
from crawler.settings import FINGERPRINT_DEFAULTS

CONTENT_BYTES = FINGERPRINT_DEFAULTS.content_bytes  # K: image-data bytes in the content hash


@dataclass(frozen=True)
class Layout:
    """An image's structure as far as the known bytes tell.

    Ranges are half-open ``(start, end)`` file offsets. ``needs`` lists the
    missing bytes that (a) the structure walk, (b) the EXIF and (c) the
    content-hash input depend on, and (d) for a JPEG, PNG or WebP without an
    EXIF thumbnail, the top band of the picture (``band``, added by
    :func:`crawler.fingerprint.analyze.analyze`); a walk stopped at a header
    it lacks asks for a read-ahead window with it (see :meth:`Draft.walk_to`).
    It is empty once all are complete or cannot be had (the file ends, or is
    malformed there).
    """

    format: str | None
    width: int | None = None
    height: int | None = None
    progressive: bool | None = None  # JPEG SOF2/6/10/14, PNG Adam7, GIF interlace; else None
    exif_ranges: tuple[Range, ...] = ()
    image_data_offset: int | None = None
    content_sha256: str | None = None
    needs: tuple[Range, ...] = ()
    exif: dict[str, str] = field(default_factory=dict)  # exifread's tags over the pieces held
    thumbnail: bytes | None = None  # the EXIF's JPEG thumbnail
    band: BandHash | None = None  # the web perceptual hash, when there is no thumbnail (see band.py)

    @property
    def complete(self) -> bool:
        return not self.needs


@dataclass
class Draft:
    """A layout under construction, and the ranges the parser found missing."""

    format: str
    width: int | None = None
    height: int | None = None
    progressive: bool | None = None
    exif_ranges: list[Range] = field(default_factory=list)
    image_data_offset: int | None = None
    content_sha256: str | None = None
    needs: list[Range] = field(default_factory=list)

    @contextmanager
    def wants(self) -> Iterator[None]:
        """Run a step; if it lacks bytes, note them and carry on after the block."""
        try:
            yield
        except NeedBytes as need:
            self.needs.extend(need.ranges)

    def need(self, start: int, end: int) -> None:
        self.needs.append((start, end))

    def walk_to(self, pos: int, missing: Iterable[Range]) -> None:
        """The walk stopped at a header it lacks: ask for it and read ahead.

        Headers chain (each says where the next one is), so a walk through
        metadata costs a round trip per header past the known bytes. Asking
        for as many bytes again as lie before the header (doubling the span
        walked) bounds those round trips by the log of the distance.
        """
        self.needs.extend(missing)
        self.needs.append((pos, 2 * pos))

    def header(self, buffer: SparseBuffer, pos: int, length: int) -> bytes | None:
        """The ``length`` header bytes at ``pos``; None (after asking for them) when not held."""
        try:
            return buffer.get(pos, length)
        except NeedBytes as need:
            self.walk_to(pos, need.ranges)
            return None

    def size(self, width: int, height: int) -> None:
        if width > 0 and height > 0:
            self.width, self.height = width, height

    def exif(self, start: int, end: int) -> None:
        """A range holding EXIF: reported, and needed."""
        self.exif_ranges.append((start, end))
        self.need(start, end)

    def finish(self, buffer: SparseBuffer) -> Layout:
        needs = subtract(clamp(self.needs, buffer.total), buffer.known)
        return Layout(
            format=self.format,
            width=self.width,
            height=self.height,
            progressive=self.progressive,
            exif_ranges=tuple(clamp(self.exif_ranges, buffer.total)),
            image_data_offset=self.image_data_offset,
            content_sha256=self.content_sha256,
            needs=tuple(needs),
        )


def digest(format_name: str, parts: Iterable[bytes]) -> str:
    """SHA-256 hex over the parts, each length-prefixed so no two splits collide."""
    sha = hashlib.sha256(format_name.encode() + b"\x00")
    for part in parts:
        sha.update(len(part).to_bytes(8, "big"))
        sha.update(part)
    return sha.hexdigest()


def merge_needs(*groups: Iterable[Range]) -> tuple[Range, ...]:
    return tuple(normalize(r for group in groups for r in group))
