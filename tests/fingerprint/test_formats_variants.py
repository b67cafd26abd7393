"""content_sha256: the same picture with its metadata stripped, edited or added hashes the same.

Variants are made byte-wise from corpus files (re-encoding would change the
picture): JPEG APPn/COM segments removed or added, PNG text and eXIf chunks
removed, EXIF strings edited in place, WebP metadata chunks removed. A
change to the image data itself must change the hash.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from crawler.fingerprint.analyze import analyze
from crawler.fingerprint.plan import RangePolicy, replay
from crawler.fingerprint.sparse import SparseBuffer
from tests.support.corpora import images

JPEGS = images("jpeg")
PNGS = images("png")
EXTENDED_WEBPS = [p for p in images("webp") if p.read_bytes()[12:16] == b"VP8X"]


def content(data: bytes) -> str | None:
    return analyze(SparseBuffer.of(data, len(data))).content_sha256


def jpeg_segments(data: bytes) -> tuple[list[bytes], bytes]:
    """(segments before SOS, the rest from SOS on); tolerates padding between segments."""
    pos, segments = 2, []
    while data[pos + 1] != 0xDA:
        if data[pos] != 0xFF:
            pos = data.index(b"\xff", pos)
            continue
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        segments.append(data[pos:end])
        pos = end
    return segments, data[pos:]


def strip_jpeg(data: bytes) -> bytes:
    segments, rest = jpeg_segments(data)
    return b"\xff\xd8" + b"".join(s for s in segments if not (0xE0 <= s[1] <= 0xEF or s[1] == 0xFE)) + rest


def add_comment(data: bytes) -> bytes:
    text = b"edited by a site" * 50
    return data[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + data[2:]


def png_without(data: bytes, kinds: set[bytes]) -> bytes:
    pos, out = 8, [data[:8]]
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] not in kinds:
            out.append(data[pos : pos + 12 + length])
        pos += 12 + length
    return b"".join(out)


def webp_without(data: bytes, kinds: set[bytes]) -> bytes:
    pos, chunks = 12, []
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if data[pos : pos + 4] not in kinds:
            chunks.append(data[pos : pos + 8 + size + (size & 1)])
        pos += 8 + size + (size & 1)
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


@pytest.mark.parametrize("path", JPEGS, ids=lambda p: p.name)
def test_jpeg_metadata_changes_keep_the_content_hash(path: Path) -> None:
    data = path.read_bytes()
    original = content(data)
    assert original is not None
    stripped = strip_jpeg(data)
    assert stripped != data
    assert content(stripped) == original
    assert content(add_comment(data)) == original
    assert content(add_comment(stripped)) == original


@pytest.mark.parametrize("path", JPEGS, ids=lambda p: p.name)
def test_jpeg_image_data_change_changes_the_content_hash(path: Path) -> None:
    data = bytearray(path.read_bytes())
    layout = analyze(SparseBuffer.of(bytes(data), len(data)))
    assert layout.image_data_offset is not None
    at = layout.image_data_offset + 100
    data[at] = data[at] ^ 0x01 if data[at] not in (0xFF, 0xFE) else 0x11
    assert content(bytes(data)) != layout.content_sha256


def test_edited_exif_string_keeps_the_content_hash_but_not_the_prefix_hash(corpus: Path) -> None:
    data = (corpus / "jpeg" / "Canon_PowerShot_S40_2.jpg").read_bytes()
    edited = data.replace(b"Canon PowerShot S40", b"Nikon PowerShot S40", 1)
    assert edited != data and edited[:10240] != data[:10240]
    assert content(edited) == content(data)


def test_adaptive_fetch_gives_the_content_hash_of_a_stripped_copy(corpus: Path) -> None:
    data = (corpus / "jpeg" / "Pentax_ist_D.jpg").read_bytes()  # image data starts past 60 KB
    fetched = replay(data, RangePolicy())
    stripped = strip_jpeg(data)
    assert analyze(fetched.buffer).content_sha256 == analyze(replay(stripped, RangePolicy()).buffer).content_sha256
    assert fetched.buffer.bytes_known < len(data) // 5  # the EXIF and the first scan bytes, not the file


@pytest.mark.parametrize("path", PNGS, ids=lambda p: p.name)
def test_png_without_text_and_exif_keeps_the_content_hash(path: Path) -> None:
    data = path.read_bytes()
    stripped = png_without(data, {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME", b"pHYs"})
    assert stripped != data
    assert content(stripped) == content(data) is not None


def test_tiff_exif_edit_keeps_the_content_hash(corpus: Path) -> None:
    data = (corpus / "tiff" / "Issue_16.tif").read_bytes()
    make = data.index(b"Adobe Photoshop")
    edited = data[:make] + b"GIMP 2.10 build" + data[make + 15 :]
    assert edited != data
    assert content(edited) == content(data) is not None


@pytest.mark.parametrize("path", EXTENDED_WEBPS, ids=lambda p: p.name)
def test_webp_without_metadata_chunks_keeps_the_content_hash(path: Path) -> None:
    data = path.read_bytes()
    simple = webp_without(data, {b"VP8X", b"ICCP", b"EXIF", b"XMP "})  # an extended file made simple
    assert content(simple) == content(data) is not None


def gif_first_image(data: bytes) -> int:
    """Offset of the first image descriptor (after the color table and any extensions)."""
    pos = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    while data[pos] == 0x21:
        pos += 2
        while data[pos]:
            pos += 1 + data[pos]
        pos += 1
    return pos


def test_gif_comments_keep_the_content_hash_and_interlace_is_reported() -> None:
    picture = Image.radial_gradient("L").resize((300, 200)).convert("P")
    plain, interlaced = io.BytesIO(), io.BytesIO()
    picture.save(plain, "GIF", interlace=False)
    picture.save(interlaced, "GIF", interlace=True)
    base = plain.getvalue()
    layout = analyze(SparseBuffer.of(base, len(base)))
    assert (layout.width, layout.height, layout.progressive) == (300, 200, False)
    assert analyze(SparseBuffer.of(interlaced.getvalue(), len(interlaced.getvalue()))).progressive is True
    comment = b"\x21\xfe\x05hello\x00"
    after = base[:-1] + comment + base[-1:]
    before = base[: gif_first_image(base)] + comment + base[gif_first_image(base) :]
    assert content(after) == content(before) == layout.content_sha256 is not None


def test_avif_made_by_pillow_is_sized_hashed_and_its_exif_located() -> None:
    exif = Image.Exif()
    exif[0x010F] = "TestMake"
    out = io.BytesIO()
    Image.linear_gradient("L").convert("RGB").resize((320, 240)).save(out, "AVIF", exif=exif)
    data = out.getvalue()
    layout = analyze(SparseBuffer.of(data, len(data)))
    assert (layout.format, layout.width, layout.height) == ("avif", 320, 240)
    assert layout.content_sha256 is not None and layout.image_data_offset is not None
    (start, end), = layout.exif_ranges
    assert b"Exif\x00\x00" in data[start:end] and b"TestMake" in data[start:end]
