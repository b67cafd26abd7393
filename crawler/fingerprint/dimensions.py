"""Pixel dimensions from a header, through Pillow's lazy open."""

from __future__ import annotations

import io
import warnings

from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # we never decode pixels, only read the header


def read_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) when the bytes hold the header that says so, else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Exception:  # Pillow raises many kinds on truncated input
        return None
    return (width, height) if width > 0 and height > 0 else None
