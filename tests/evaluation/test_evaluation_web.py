"""The web variant family and its score: variants made as a site re-posts a picture, recall, false positives, bytes."""

from __future__ import annotations

import dataclasses
import io

from PIL import Image

from crawler.evaluation.hashing import FileResult
from crawler.evaluation.web_document import web_document
from crawler.evaluation.web_score import score_web
from crawler.evaluation.web_variants import WEB_KINDS, web_variants
from crawler.fingerprint.sniff import sniff_format

K = 4096


def picture(fmt: str = "PNG", mode: str = "RGBA") -> bytes:
    image = Image.new(mode, (1000, 600), (30, 120, 200, 128) if mode == "RGBA" else (30, 120, 200))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def test_web_variants_are_re_encoded_without_metadata() -> None:
    made = dict(web_variants(picture(), "png"))
    assert list(made) == list(WEB_KINDS)
    formats = {kind: sniff_format(data[:16]) for kind, data in made.items() if isinstance(data, bytes)}
    assert formats == {**dict.fromkeys(WEB_KINDS, "jpeg"), "web_png": "png", "web_webp": "webp"}
    sizes = {}
    for kind, data in made.items():
        assert isinstance(data, bytes)
        with Image.open(io.BytesIO(data)) as image:
            sizes[kind] = image.size
            assert "exif" not in image.info and image.mode == "RGB"
            if kind == "web_progressive":
                assert image.info.get("progressive")
    assert sizes["web_resized_50"] == (500, 300) and sizes["web_width_800"] == (800, 480)


def test_web_variants_say_why_they_were_not_made() -> None:
    assert dict(web_variants(b"GIF89a", "gif")) == dict.fromkeys(WEB_KINDS, "gif: web variants only for JPEG, PNG and WebP")
    broken = dict(web_variants(b"\x89PNG\r\n\x1a\nbroken", "png"))
    assert set(broken) == set(WEB_KINDS) and all(isinstance(v, str) and v for v in broken.values())


def result(path: str, sha: str, hash_: str | None, source: str | None = "top_band_8:jpeg_baseline", spent: int = 10240,
           shape: tuple[int | None, int | None] = (800, 600)) -> FileResult:
    return FileResult(path, "image", spent, sha, "jpeg", {}, hash_, {K: spent}, {K: 0}, perceptual_source=source,
                      shape=shape)


def test_score_counts_recall_false_positives_and_bytes() -> None:
    a = result("a.jpg", "1", "0000000000000000")
    b = result("b.jpg", "2", "ffffffffffffffff")
    thumb = result("t.jpg", "3", "0000000000000000", source="exif_thumbnail")
    heic = dataclasses.replace(result("h.heic", "9", None, None), format="heic")  # no band: left out silently
    pairs = [
        (a, result("v1", "4", "000000000000007f", spent=20000), "web_png"),  # 7 bits: a match
        (b, result("v2", "5", "ffffffffffffff00", spent=30000), "web_png"),  # 8 bits from b: a miss
        (a, result("v3", "6", None, None, spent=40000), "web_webp"),  # no hash: a miss
        (b, result("v4", "7", "ffffffffffffffff", source="top_band_2:png"), "web_webp"),  # another band: a miss
        (thumb, result("v5", "8", "0000000000000000"), "web_png"),  # its original has a thumbnail: left out
    ]
    web = score_web([a, b, thumb, heic], pairs, K)
    rows = {row.kind: row for row in web.rows}
    assert web.with_thumbnail == 1
    assert (rows["original"].files, rows["original"].hashed, rows["original"].recall) == (2, 2, None)
    assert (rows["web_png"].files, rows["web_png"].matched, rows["web_png"].bytes_median) == (2, 1, 25000)
    assert (rows["web_webp"].hashed, rows["web_webp"].matched, rows["web_webp"].bytes_p90) == (1, 0, 40000)
    assert rows["web_resized_50"].files == 0 and rows["web_resized_50"].recall is None
    # Same band, different pictures: a-b (64 bits), a-v2 (56), b-v1 (57), v1-v2 (63); v4 is alone in its band.
    assert web.different_pairs == 4
    assert web.false_positives == 0 and web.nearest_different == 56
    document = web_document(web)
    assert document["kinds"]["web_png"]["recall"] == 0.5 and document["false_positives"] == 0


def test_a_false_positive_is_named() -> None:
    a = result("a.jpg", "1", "0000000000000000")
    b = result("b.jpg", "2", "0000000000000003")
    web = score_web([a, b], [], K)
    assert (web.different_pairs, web.false_positives, web.nearest_different) == (1, 1, 2)
    assert web.false_positive_pairs == [("a.jpg", "b.jpg", 2)]


def test_pictures_of_other_aspect_ratios_are_never_compared() -> None:
    a = result("a.jpg", "1", "0000000000000000")
    b = result("b.jpg", "2", "0000000000000003", shape=(600, 600))
    web = score_web([a, b], [], K)
    assert (web.different_pairs, web.false_positives, web.nearest_different) == (0, 0, None)
