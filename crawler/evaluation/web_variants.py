"""The web family of variant sets: a picture as another site re-posts it.

A site that takes a picture re-encodes it: it decodes it, drops its
metadata (EXIF, thumbnail, ICC profile) and writes it again, often smaller
or in another format. The kinds, one file each per original:

- ``web_resaved_q75``: JPEG at quality 75;
- ``web_resized_50``: half the width and height, JPEG at quality 75;
- ``web_width_800``: 800 px wide (height to scale), JPEG at quality 75;
- ``web_progressive``: progressive JPEG at quality 75;
- ``web_png``: PNG;
- ``web_webp``: WebP at quality 80.

Transparency is laid on white first, as a browser shows it on a white page.
None of these keeps a byte of the original, so only a perceptual hash can
follow them: the web perceptual fingerprint (the top band, see
:mod:`crawler.fingerprint.band`), scored by :mod:`crawler.evaluation.web_score`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator

from PIL import Image

from crawler.evaluation.sources import describe_error

WEB_KINDS = ("web_resaved_q75", "web_resized_50", "web_width_800", "web_progressive", "web_png", "web_webp")
JPEG_QUALITY = 75
WEBP_QUALITY = 80
WIDTH = 800
_DECODED = frozenset({"jpeg", "png", "webp"})


def web_variants(data: bytes, image_format: str) -> Iterator[tuple[str, bytes | str]]:
    """(kind, the variant's bytes) or (kind, why it could not be made), for every web kind in order."""
    try:
        picture = _picture(data, image_format)
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds on a malformed file; its variants fail, not the run
        reason = str(exc) if isinstance(exc, _NotDecoded) else f"{type(exc).__name__}: {describe_error(exc)}"
        for kind in WEB_KINDS:
            yield kind, reason
        return
    for kind in WEB_KINDS:
        try:
            yield kind, encode(picture, kind)
        except Exception as exc:  # noqa: BLE001 - as above, for one kind
            yield kind, f"{type(exc).__name__}: {describe_error(exc)}"


class _NotDecoded(Exception):
    """The format is not one the web family re-encodes."""


def _picture(data: bytes, image_format: str) -> Image.Image:
    """The picture as RGB, transparency laid on white, metadata gone."""
    if image_format not in _DECODED:
        raise _NotDecoded(f"{image_format}: web variants only for JPEG, PNG and WebP")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image: Image.Image = Image.open(io.BytesIO(data))
        image.load()
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        return image.convert("RGB")


def encode(picture: Image.Image, kind: str) -> bytes:
    """The picture re-encoded as ``kind`` says."""
    if kind == "web_resized_50":
        picture = picture.resize((max(1, picture.width // 2), max(1, picture.height // 2)), Image.Resampling.LANCZOS)
    elif kind == "web_width_800":
        height = max(1, round(WIDTH * picture.height / picture.width))
        picture = picture.resize((WIDTH, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if kind == "web_png":
        picture.save(out, "PNG")
    elif kind == "web_webp":
        picture.save(out, "WEBP", quality=WEBP_QUALITY)
    else:
        picture.save(out, "JPEG", quality=JPEG_QUALITY, progressive=kind == "web_progressive")
    return out.getvalue()
