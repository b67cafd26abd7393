"""The web perceptual hash (top band) on a real dog picture, its re-encoded copies, plain pictures and bad bytes.

Copies are fetched by the crawler's own adaptive plan (``replay``), so these
tests see what a record would carry.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image

from crawler.fingerprint.analyze import analyze
from crawler.fingerprint.band import assess_band
from crawler.fingerprint.band_decode import Partial, decode
from crawler.fingerprint.compute import Fingerprint, fingerprint
from crawler.fingerprint.perceptual import distance, hash_kind
from crawler.fingerprint.plan import RangePolicy, replay
from crawler.fingerprint.sparse import SparseBuffer
from crawler.settings import INDEX_DEFAULTS
from tests.support.corpora import SHARED_DOGS

DOGS = SHARED_DOGS
POLICY = RangePolicy()


def _dog() -> Path:
    return next(p for p in sorted(DOGS.rglob("*.jpg")) if p.stat().st_size > 30000)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def record(data: bytes, policy: RangePolicy = POLICY) -> tuple[Fingerprint, int]:
    """The fingerprint fields the crawler would record, and the bytes it would fetch."""
    fetched = replay(data, policy)
    return fingerprint(data[:10240], layout=fetched.layout), fetched.bytes_fetched


@pytest.fixture(scope="module")
def copies() -> dict[str, bytes]:
    if not DOGS.is_dir():
        pytest.skip("needs the Stanford Dogs partial copy at ../shared/stanford-dogs-partial beside the checkout")
    data = _dog().read_bytes()
    image = Image.open(io.BytesIO(data)).convert("RGB")
    half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    return {
        "original": data,
        "resaved": encode(image, "JPEG", quality=75),
        "half": encode(half, "JPEG", quality=75),
        "progressive": encode(image, "JPEG", quality=75, progressive=True),
        "png": encode(image, "PNG"),
        "webp": encode(image, "WEBP", quality=80),
    }


def test_copies_match_their_original_across_formats(copies: dict[str, bytes]) -> None:
    first, _ = record(copies["original"])
    assert first.perceptual_hash is not None and first.perceptual_hash_source == "top_band_8:jpeg_baseline"
    for name, data in copies.items():
        found, spent = record(data)
        assert spent <= POLICY.cap_bytes
        if name == "webp" and len(data) > POLICY.whole_file_bytes:
            assert found.perceptual_hash is None  # a WebP decodes only whole
            continue
        assert found.perceptual_hash is not None and found.perceptual_hash_source is not None, name
        assert hash_kind(found.perceptual_hash_source) == "top_band_8", found.perceptual_hash_source
        assert distance(first.perceptual_hash, found.perceptual_hash) <= INDEX_DEFAULTS.band_threshold, name


def test_sources_name_the_decoder(copies: dict[str, bytes]) -> None:
    sources = {name: record(copies[name])[0].perceptual_hash_source for name in ("progressive", "png")}
    assert sources == {"progressive": "top_band_8:jpeg_progressive", "png": "top_band_8:png"}


def test_a_progressive_first_scan_needs_nothing_past_the_prefix(copies: dict[str, bytes]) -> None:
    data = copies["progressive"]
    band = assess_band(SparseBuffer.of(data[:10240], len(data)), "jpeg")
    assert band.hash is not None and band.needs == ()


def test_a_png_band_is_fetched_by_the_plan_within_the_cap(copies: dict[str, bytes]) -> None:
    data = copies["png"]
    needs = analyze(SparseBuffer.of(data[:10240], len(data))).needs
    assert needs and needs[0][0] == 10240  # the band's rows come after the prefix
    tight = RangePolicy(cap_bytes=16384)
    found, spent = record(data, tight)
    assert spent <= tight.cap_bytes
    assert found.perceptual_hash is None  # this PNG's band lies past 16 KB: no hash rather than a guess


def test_whole_file_setting_off_leaves_a_webp_without_hash(copies: dict[str, bytes]) -> None:
    data = copies["webp"]
    assert 10240 < len(data) <= POLICY.whole_file_bytes
    assert record(data)[0].perceptual_hash_source == "top_band_8:webp"
    off, spent = record(data, RangePolicy(whole_file_bytes=0))
    assert off.perceptual_hash is None and spent == min(len(data), 10240)


def test_a_plain_picture_gets_no_hash_and_asks_for_nothing() -> None:
    image = Image.new("RGB", (600, 400), (250, 250, 250))
    image.paste((20, 90, 30), (0, 320, 600, 400))  # plain down to well below half the width
    for data in (encode(image, "JPEG", quality=90), encode(image, "PNG")):
        band = assess_band(SparseBuffer.of(data, len(data)), None)
        assert band.plain and band.hash is None and band.needs == ()


def test_a_plain_band_falls_back_to_a_taller_one(copies: dict[str, bytes]) -> None:
    image = Image.open(io.BytesIO(copies["original"])).convert("RGB")
    sky = Image.new("RGB", (image.width, image.height + image.width // 4), (200, 220, 250))
    sky.paste(image, (0, image.width // 4))  # a plain top as tall as a quarter of the width
    found, _ = record(encode(sky, "JPEG", quality=80))
    again, _ = record(encode(sky.resize((sky.width // 2, sky.height // 2)), "PNG"))
    assert found.perceptual_hash is not None and again.perceptual_hash is not None
    assert found.perceptual_hash_source == "top_band_2:jpeg_baseline"
    assert again.perceptual_hash_source == "top_band_2:png"
    assert distance(found.perceptual_hash, again.perceptual_hash) <= INDEX_DEFAULTS.band_threshold


def test_a_thumbnail_keeps_its_own_hash(corpus: Path) -> None:
    with_thumbnail = [p for p in sorted((corpus / "jpeg").iterdir()) if analyze(SparseBuffer.of(p.read_bytes())).thumbnail]
    assert with_thumbnail
    found, _ = record(with_thumbnail[0].read_bytes())
    assert found.perceptual_hash_source == "exif_thumbnail"


@pytest.mark.parametrize("name", ["original", "progressive", "png", "webp"])
def test_truncated_and_damaged_files_never_raise(copies: dict[str, bytes], name: str) -> None:
    data = copies[name][:40000]
    fmt = {"original": "jpeg", "progressive": "jpeg"}.get(name, name)
    rng = random.Random(15)
    for cut in range(0, len(data), 997):
        assess_band(SparseBuffer.of(data[:cut], len(copies[name])), None)
        assess_band(SparseBuffer.of(data[:cut]), fmt)
    for _ in range(40):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 40)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        band = assess_band(SparseBuffer.of(bytes(damaged), len(damaged)), None)
        assert all(0 <= start < end <= len(damaged) for start, end in band.needs)
        record(bytes(damaged))


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", None])
def test_garbage_gives_no_hash(fmt: str | None) -> None:
    rng = random.Random(fmt or "none")
    heads = {"jpeg": b"\xff\xd8\xff\xdb", "png": b"\x89PNG\r\n\x1a\n", "webp": b"RIFF\0\0\0\0WEBP"}
    for length in (0, 1, 10, 100, 5000):
        data = heads.get(fmt or "", b"") + bytes(rng.randrange(256) for _ in range(length))
        assert assess_band(SparseBuffer.of(data, len(data) + rng.randrange(10**6)), fmt).hash is None


def test_a_huge_frame_size_is_refused() -> None:
    """A PNG header claiming 100,000 x 100,000 pixels must not allocate them."""
    data = bytearray(encode(Image.new("RGB", (64, 64), (10, 200, 30)), "PNG"))
    data[16:24] = (100_000).to_bytes(4, "big") * 2
    assert assess_band(SparseBuffer.of(bytes(data[:2000]), 10**9), "png").hash is None


def test_a_progressive_file_cut_anywhere_decodes(copies: dict[str, bytes]) -> None:
    """A cut inside the DHT or SOS segment between two scans must not make the scans before it unreadable."""
    data = copies["progressive"]
    for cut in range(1000, min(len(data), 30000), 211):
        assert isinstance(decode(SparseBuffer.of(data[:cut], len(data)), "jpeg", 1 / 8), Partial)


def test_band_hashes_compare_only_between_pictures_of_one_aspect_ratio() -> None:
    from crawler.fingerprint.band import same_shape

    assert same_shape((4032, 3024), (800, 600)) and same_shape((801, 601), (400, 300))
    assert same_shape((35, 35), (17, 17))  # rounding of a small side
    assert not same_shape((290, 232), (280, 280)) and not same_shape((800, 600), (600, 800))
    assert not same_shape((800, None), (800, 600)) and not same_shape((0, 0), (0, 0))
