"""One file's bytes -> its ground truth and the key each method matches it on.

Each file is read once, as a stream: the first bytes (enough for the
crawler's prefix and for the longest prefix of the sweep) are kept, and every
byte goes through the full-file SHA-256, the ground truth. The crawler's keys
come from :func:`crawler.fingerprint.fingerprint` called on the same first
``prefix_bytes`` bytes the crawler would have fetched, so the harness measures
the crawler's code, not a copy of it. Only the shorter sweep prefixes are
hashed here, incrementally (each byte of the head is hashed once).

Files are classified the way the crawler treats them: empty, not an image
(no known magic number), under ``min_image_bytes`` (the crawler skips those),
or an image, which gets keys. Pure apart from reading the stream it is given.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from crawler.evaluation.sources import describe_error
from crawler.fingerprint import HASHED_PREFIX_BYTES, fingerprint
from crawler.formats.sniff import sniff_format
from crawler.settings import FingerprintSettings

DEFAULT_SWEEP = (256, 512, 1024, 2048, 4096, 8192, 10240)
PREFIX_METHOD = f"prefix_sha256_{HASHED_PREFIX_BYTES}"
PREFIX_SIZE_METHOD = f"{PREFIX_METHOD}+size"
_READ_CHUNK = 1 << 20

Kind = Literal["image", "small", "non_image", "empty", "unreadable"]


def sweep_method(length: int) -> str:
    """Name of the method keyed on the SHA-256 of the first ``length`` bytes."""
    return f"prefix_sha256_{length}"


def sample_method(sample_bytes: int) -> str:
    """Name of the method keyed on the crawler's sample bytes."""
    return f"sample_{sample_bytes}"


@dataclass(frozen=True)
class HashParams:
    """What to read and hash: the crawler's fingerprint settings plus the sweep."""

    prefix_bytes: int = 10240
    sample_bytes: int = 128
    min_image_bytes: int = 20480
    sweep: tuple[int, ...] = DEFAULT_SWEEP

    @classmethod
    def from_settings(
        cls, settings: FingerprintSettings, sweep: tuple[int, ...] = DEFAULT_SWEEP
    ) -> HashParams:
        return cls(settings.prefix_bytes, settings.sample_bytes, settings.min_image_bytes, sweep)

    @property
    def head_bytes(self) -> int:
        """How many leading bytes of each file are kept in memory."""
        return max(self.prefix_bytes, *self.sweep)

    def main_methods(self) -> list[str]:
        """The crawler's own keys: prefix hash, prefix hash with size, sample."""
        return [PREFIX_METHOD, PREFIX_SIZE_METHOD, sample_method(self.sample_bytes)]

    def methods(self) -> list[str]:
        """Every method name, the crawler's first, then the sweep (no repeats)."""
        names = self.main_methods()
        return names + [sweep_method(n) for n in sorted(self.sweep) if sweep_method(n) not in names]


@dataclass(frozen=True, slots=True)
class FileResult:
    """What one file contributes: its class, ground truth and method keys."""

    path: str
    kind: Kind
    size: int = 0
    sha256: str = ""
    format: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    error: str = ""


def hash_stream(path: str, stream: IO[bytes], params: HashParams) -> FileResult:
    """Read ``stream`` to its end once; raises what the stream raises."""
    head = stream.read(params.head_bytes)
    full = hashlib.sha256(head)
    size = len(head)
    while chunk := stream.read(_READ_CHUNK):
        full.update(chunk)
        size += len(chunk)
    return classify(path, head, size, full.hexdigest(), params)


def classify(path: str, head: bytes, size: int, sha256: str, params: HashParams) -> FileResult:
    """The file's class, and its keys when it is an image the crawler would keep."""
    if size == 0:
        return FileResult(path, "empty")
    image_format = sniff_format(head)
    if image_format is None:
        return FileResult(path, "non_image", size, sha256)
    if size < params.min_image_bytes:
        return FileResult(path, "small", size, sha256, image_format)
    return FileResult(path, "image", size, sha256, image_format, method_keys(head, size, params))


def method_keys(head: bytes, size: int, params: HashParams) -> dict[str, str]:
    """Method name -> the key two images must share to be called duplicates."""
    fields = fingerprint(head[: params.prefix_bytes], params.sample_bytes)
    keys = {
        PREFIX_METHOD: fields.sha256_first_10240_bytes,
        PREFIX_SIZE_METHOD: f"{fields.sha256_first_10240_bytes}:{size}",
        sample_method(params.sample_bytes): fields.random_128_bytes_sample_start,
    }
    digest = hashlib.sha256()
    done = 0
    for length in sorted(params.sweep):
        digest.update(head[done:length])
        done = length
        keys.setdefault(sweep_method(length), digest.hexdigest())
    return keys


def hash_file(root: Path, path: str, params: HashParams) -> FileResult:
    """Hash ``root / path``; an error while opening or reading makes it unreadable."""
    try:
        with open(root / path, "rb") as stream:
            return hash_stream(path, stream, params)
    except OSError as exc:
        return FileResult(path, "unreadable", error=describe_error(exc))


def hash_files(root: str, paths: list[str], params: HashParams) -> list[FileResult]:
    """A chunk of files, in one process; the unit of work of the process pool."""
    return [hash_file(Path(root), path, params) for path in paths]
