"""Small real images, built on purpose, for the variant-set tests.

Four JPEGs carry an EXIF block written here byte by byte (IFD0 with Make,
Software and DateTime; IFD1 pointing at a 160x120 JPEG thumbnail of the
picture), since Pillow writes no IFD1 of its own. In one of them a 12 KB
maker-note blob pushes the thumbnail and the image data past byte 10,240, as
in many camera files: its first 10,240 bytes are all metadata, so a re-save
that keeps the EXIF keeps them too. Beside them: a JPEG with no metadata, a
PNG with tEXt and eXIf chunks (compressed at level 1, so that Pillow's
re-save at its default level changes the image data), and a WebP. Pictures
are seeded random shapes over noise (files of 25-60 KB), so no two are
alike. What each variant kind can be made of, and what each method must
match, follows from how the files are built (``EXPECTED_*`` below), not
from the code under test.
"""

from __future__ import annotations

import io
import random
import struct
from pathlib import Path

from PIL import Image, ImageDraw, PngImagePlugin

SIZE = (480, 360)
LONG_EXIF = "camera/shot_3_long_exif.jpg"  # image data after byte 10,240
THUMBNAIL = (160, 120)


def picture(seed: int, size: tuple[int, int] = SIZE) -> Image.Image:
    rng = random.Random(seed)
    noise = Image.frombytes("L", size, rng.randbytes(size[0] * size[1])).convert("RGB")
    image = Image.blend(Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3))), noise, 0.3)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        box = (x, y, x + rng.randrange(20, 160), y + rng.randrange(20, 120))
        draw.rectangle(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    return image


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def exif_block(make: str, software: str, when: str, thumbnail: bytes | None, padding: int = 0) -> bytes:
    """A little-endian TIFF block: IFD0 (Make, Software, DateTime, a maker-note blob) and IFD1."""
    fields = [(0x010F, 2, make.encode() + b"\0"), (0x0131, 2, software.encode() + b"\0")]
    fields += [(0x0132, 2, when.encode() + b"\0"), (0x927C, 7, bytes(range(256)) * (padding // 256))]
    values_at = 8 + 2 + 12 * len(fields) + 4
    values = b"".join(value for _, _, value in fields)
    ifd1_at = values_at + len(values) if thumbnail else 0
    entries, offset = b"", values_at
    for tag, kind, value in fields:
        entries += struct.pack("<HHII", tag, kind, len(value), offset)
        offset += len(value)
    block = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(fields)) + entries
    block += struct.pack("<I", ifd1_at) + values
    if thumbnail:
        thumbnail_at = ifd1_at + 2 + 12 * 3 + 4
        block += struct.pack("<H", 3) + struct.pack("<HHII", 0x0103, 3, 1, 6)  # Compression: JPEG
        block += struct.pack("<HHII", 0x0201, 4, 1, thumbnail_at) + struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail))
        block += struct.pack("<I", 0) + thumbnail
    return block


def camera_jpeg(seed: int, padding: int = 0) -> bytes:
    image = picture(seed)
    small = image.copy()
    small.thumbnail(THUMBNAIL)
    thumbnail = encode(small, "JPEG", quality=75)
    exif = exif_block("TestCam", f"firmware {seed}", "2024:05:06 07:08:09", thumbnail, padding)
    return encode(image, "JPEG", quality=85, exif=b"Exif\x00\x00" + exif)


def png_with_metadata(seed: int) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "made for the variant tests")
    exif = exif_block("TestCam", "png writer", "2024:05:06 07:08:09", None)
    return encode(picture(seed), "PNG", pnginfo=info, exif=b"Exif\x00\x00" + exif, compress_level=1)


def files() -> dict[str, bytes]:
    """Relative path -> content of every original."""
    originals = {f"camera/shot_{seed}.jpg": camera_jpeg(seed) for seed in range(3)}
    originals[LONG_EXIF] = camera_jpeg(3, padding=12_288)
    originals["plain/no_metadata.jpg"] = encode(picture(10), "JPEG", quality=85)
    originals["plain/with_metadata.png"] = png_with_metadata(11)
    originals["plain/picture.webp"] = encode(picture(12), "WEBP", quality=90)
    return originals


def write(root: Path) -> Path:
    for relative, data in files().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


CAMERA = 4  # JPEGs with EXIF and a thumbnail
WEB_KINDS = ("web_resaved_q75", "web_resized_50", "web_width_800", "web_progressive", "web_png", "web_webp")
# kind -> pairs made: which originals each kind applies to, by construction.
EXPECTED_PAIRS = {
    "stripped": CAMERA + 1,  # + the PNG; the plain JPEG has nothing to strip, WebP has no byte-level edits
    "exif_edited": CAMERA + 1,  # + the PNG's eXIf
    "comment_added": CAMERA + 2,  # + plain JPEG and PNG
    "resaved": CAMERA + 3,  # every Pillow format
    "resized": CAMERA + 3,
    "resized_new_thumbnail": CAMERA,  # JPEGs with a thumbnail only
    **dict.fromkeys(WEB_KINDS, CAMERA + 3),  # every Pillow format
}
# kind -> pairs whose both files have a thumbnail pHash (the camera JPEGs, unless stripped or
# re-encoded for the web, which drops the metadata).
EXPECTED_PHASH_PAIRS = {kind: 0 if kind == "stripped" or kind in WEB_KINDS else CAMERA for kind in EXPECTED_PAIRS}
