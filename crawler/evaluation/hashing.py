"""One file's bytes -> its ground truth and the key each method matches it on.

Each file is read once, whole: every byte goes through the full-file
SHA-256, the ground truth, and the bytes stand in for the server. The
crawler's keys come from its own code: :func:`crawler.fingerprint.plan.replay`
runs the adaptive range loop over the bytes (what the crawler would fetch of
the file, with the settings' byte cap, rounds and K), and
:func:`crawler.fingerprint.compute.fingerprint` turns the prefix and that analysis
into the record's fields, so the harness measures the crawler, not a copy of
it. The bytes the loop fetched are kept per image.

Two sweeps are hashed alongside: SHA-256 of shorter prefixes (incrementally,
each byte once) and ``content_sha256`` at other K (one more replay per K,
which also says what that K costs in bytes).

Files are classified the way the crawler treats them: empty, not an image
(no known magic number), under ``min_image_bytes`` (the crawler skips those),
or an image, which gets keys. Pure apart from reading the file it is given.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from crawler.evaluation.sources import describe_error
from crawler.fingerprint.compute import fingerprint
from crawler.fingerprint.perceptual import SOURCE_EXIF_THUMBNAIL
from crawler.fingerprint.plan import Fetched, RangePolicy, replay
from crawler.fingerprint.sniff import sniff_format
from crawler.models import HASHED_PREFIX_BYTES
from crawler.settings import FINGERPRINT_DEFAULTS, INDEX_DEFAULTS, FingerprintSettings

DEFAULT_SWEEP = (256, 512, 1024, 2048, 4096, 8192, 10240)
DEFAULT_CONTENT_SWEEP = (256, 1024, 4096, 16384)
PHASH_THRESHOLDS = (0, 4, 8, 10)
DEFAULT_PHASH_THRESHOLD = INDEX_DEFAULTS.phash_threshold  # chosen on the variant sets (README.md beside this)
PREFIX_METHOD = f"prefix_sha256_{HASHED_PREFIX_BYTES}"
PREFIX_SIZE_METHOD = f"{PREFIX_METHOD}+size"
CONTENT_METHOD = "content_sha256"

Kind = Literal["image", "small", "non_image", "empty", "unreadable"]


def sweep_method(length: int) -> str:
    """Name of the method keyed on the SHA-256 of the first ``length`` bytes."""
    return f"prefix_sha256_{length}"


def sample_method(sample_bytes: int) -> str:
    """Name of the method keyed on the crawler's sample bytes."""
    return f"sample_{sample_bytes}"


def content_method(content_bytes: int) -> str:
    """Name of the method keyed on ``content_sha256`` with K = ``content_bytes``."""
    return f"{CONTENT_METHOD}_{content_bytes}"


def perceptual_method(threshold: int) -> str:
    """Name of the method pairing images whose EXIF-thumbnail pHashes differ in at most ``threshold`` bits."""
    return f"perceptual_hash<={threshold}"


@dataclass(frozen=True)
class HashParams:
    """What to read and hash: the crawler's fingerprint settings plus the sweeps."""

    prefix_bytes: int = FINGERPRINT_DEFAULTS.prefix_bytes
    sample_bytes: int = FINGERPRINT_DEFAULTS.sample_bytes
    min_image_bytes: int = FINGERPRINT_DEFAULTS.min_image_bytes
    sweep: tuple[int, ...] = DEFAULT_SWEEP
    policy: RangePolicy = field(default_factory=RangePolicy)
    content_sweep: tuple[int, ...] = DEFAULT_CONTENT_SWEEP

    @classmethod
    def from_settings(
        cls,
        settings: FingerprintSettings,
        sweep: tuple[int, ...] = DEFAULT_SWEEP,
        content_sweep: tuple[int, ...] = DEFAULT_CONTENT_SWEEP,
    ) -> HashParams:
        policy = RangePolicy.from_settings(settings)
        return cls(settings.prefix_bytes, settings.sample_bytes, settings.min_image_bytes, sweep, policy, content_sweep)

    @property
    def content_bytes(self) -> int:
        """K of the crawler's ``content_sha256``."""
        return self.policy.content_bytes

    @property
    def content_lengths(self) -> list[int]:
        """Every K hashed: the sweep and the crawler's own."""
        return sorted({*self.content_sweep, self.content_bytes})

    def main_methods(self) -> list[str]:
        """The crawler's own fields: prefix hash, with size, sample, content hash, pHash."""
        return [
            PREFIX_METHOD,
            PREFIX_SIZE_METHOD,
            sample_method(self.sample_bytes),
            CONTENT_METHOD,
            perceptual_method(DEFAULT_PHASH_THRESHOLD),
        ]

    def methods(self) -> list[str]:
        """Every method keyed on equality, the crawler's first, then both sweeps (no repeats)."""
        names = [PREFIX_METHOD, PREFIX_SIZE_METHOD, sample_method(self.sample_bytes), CONTENT_METHOD]
        names += [sweep_method(n) for n in sorted(self.sweep) if sweep_method(n) not in names]
        return names + [content_method(k) for k in self.content_lengths]


@dataclass(frozen=True, slots=True)
class FileResult:
    """What one file contributes: its class, ground truth, method keys and bytes fetched.

    A method's key is absent when the image has none (no content hash, no
    pHash); such an image never pairs under that method.
    """

    path: str
    kind: Kind
    size: int = 0
    sha256: str = ""
    format: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    perceptual_hash: str | None = None
    fetched: dict[int, int] = field(default_factory=dict)  # K -> bytes the adaptive loop fetched
    rounds: dict[int, int] = field(default_factory=dict)  # K -> its follow-up round trips
    error: str = ""
    perceptual_source: str | None = None  # the record's perceptual_hash_source
    shape: tuple[int | None, int | None] = (None, None)  # width, height: band hashes compare between equal ratios

    @property
    def thumbnail_hash(self) -> str | None:
        """The pHash of the EXIF thumbnail: what the ``perceptual_hash<=T`` methods compare."""
        return self.perceptual_hash if self.perceptual_source == SOURCE_EXIF_THUMBNAIL else None

    @property
    def band_hash(self) -> str | None:
        """The web perceptual hash of the top band (see :mod:`crawler.evaluation.web_score`)."""
        source = self.perceptual_source
        return self.perceptual_hash if source is not None and source != SOURCE_EXIF_THUMBNAIL else None


def classify(path: str, data: bytes, params: HashParams) -> FileResult:
    """The file's class, and its keys when it is an image the crawler would keep."""
    if not data:
        return FileResult(path, "empty")
    sha256 = hashlib.sha256(data).hexdigest()
    image_format = sniff_format(data[:16])
    if image_format is None:
        return FileResult(path, "non_image", len(data), sha256)
    if len(data) < params.min_image_bytes:
        return FileResult(path, "small", len(data), sha256, image_format)
    return image_result(path, data, sha256, image_format, params)


def image_result(path: str, data: bytes, sha256: str, image_format: str, params: HashParams) -> FileResult:
    """An image's keys, from what the crawler would fetch of it."""
    fetched = replay(data, params.policy, params.prefix_bytes)
    fields = fingerprint(data[: params.prefix_bytes], params.sample_bytes, fetched.layout, params.content_bytes)
    keys = {
        PREFIX_METHOD: fields.sha256_first_10240_bytes,
        PREFIX_SIZE_METHOD: f"{fields.sha256_first_10240_bytes}:{len(data)}",
        sample_method(params.sample_bytes): fields.random_128_bytes_sample_start,
    }
    if fields.content_sha256 is not None:
        keys[CONTENT_METHOD] = fields.content_sha256
    keys.update(_prefix_sweep(data, params.sweep))
    runs = _content_sweep(data, params, fetched)
    keys.update({content_method(k): run.layout.content_sha256 for k, run in runs.items() if run.layout.content_sha256})
    spent = {k: run.bytes_fetched for k, run in runs.items()}
    rounds = {k: run.rounds for k, run in runs.items()}
    return FileResult(
        path, "image", len(data), sha256, image_format, keys, fields.perceptual_hash, spent, rounds,
        perceptual_source=fields.perceptual_hash_source, shape=(fields.width, fields.height),
    )


def _prefix_sweep(data: bytes, lengths: tuple[int, ...]) -> dict[str, str]:
    keys: dict[str, str] = {}
    digest = hashlib.sha256()
    done = 0
    for length in sorted(lengths):
        digest.update(data[done:length])
        done = length
        keys.setdefault(sweep_method(length), digest.hexdigest())
    return keys


def _content_sweep(data: bytes, params: HashParams, crawler: Fetched) -> dict[int, Fetched]:
    """K -> what the adaptive loop fetches with it (the crawler's own K is not replayed again)."""
    return {
        k: crawler
        if k == params.content_bytes
        else replay(data, dataclasses.replace(params.policy, content_bytes=k), params.prefix_bytes)
        for k in params.content_lengths
    }


def hash_file(root: Path, path: str, params: HashParams) -> FileResult:
    """Hash ``root / path``; an error while opening or reading makes it unreadable."""
    try:
        data = (root / path).read_bytes()
    except OSError as exc:
        return FileResult(path, "unreadable", error=describe_error(exc))
    return classify(path, data, params)


def hash_files(root: str, paths: list[str], params: HashParams) -> list[FileResult]:
    """A chunk of files, in one process; the unit of work of the process pool for a folder."""
    return [hash_file(Path(root), path, params) for path in paths]


def hash_members(members: list[tuple[str, bytes]], params: HashParams) -> list[FileResult]:
    """A chunk of tar members already read; the unit of work of the process pool for an archive."""
    return [classify(name, data, params) for name, data in members]
