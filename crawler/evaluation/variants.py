"""Variant sets: each picture of a corpus again, with its metadata or encoding changed.

For every original (or a sample of them) this writes, under ``OUT/<kind>/``:

- ``stripped``: metadata segments or chunks removed, byte-wise (see :mod:`edits`);
- ``exif_edited``: one byte of an EXIF string tag changed, sizes kept;
- ``comment_added``: a JPEG COM segment or a PNG tEXt chunk inserted;
- ``resaved``: decoded and encoded again by Pillow (JPEG and WebP at quality
  90), EXIF and ICC profile kept as they were, thumbnail included;
- ``resized``: the same at half the width and height;
- ``resized_new_thumbnail``: the resized JPEG with a new EXIF thumbnail made
  from the resized picture, as an editor that rewrites thumbnails does. The
  two kinds before it carry the camera's thumbnail over byte for byte, so a
  thumbnail pHash matches them trivially; this one tests the pHash itself;
- the web family (``web_*``, see :mod:`web_variants`): re-encoded as a site
  re-posts a picture, metadata dropped: JPEG at quality 75, resized to 50 %
  and to 800 px wide, progressive, PNG and WebP.

A kind that does not apply to a file (no EXIF, a format without byte-level
edits, a picture Pillow cannot decode) is not written, and the reason is
returned. Files are named ``<kind>/<index>-<original name>``, never by the
original's path, which in a tar archive could point anywhere.
"""

from __future__ import annotations

import io
import tarfile
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image

from crawler.evaluation.collect import Progress
from crawler.evaluation.edits import (
    NotApplicable,
    add_comment,
    edit_exif,
    replace_thumbnail,
    strip_metadata,
)
from crawler.evaluation.sources import Member, describe_error, iter_tar
from crawler.evaluation.web_variants import WEB_KINDS, web_variants

KINDS = ("stripped", "exif_edited", "comment_added", "resaved", "resized", "resized_new_thumbnail", *WEB_KINDS)
QUALITY = 90
THUMBNAIL_SIZE = (160, 120)
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_KEPT_INFO = ("exif", "icc_profile")
_CHUNK = 4  # originals per task: each is decoded and encoded several times, so small tasks balance the workers

Edit = Callable[[bytes, str], bytes]


@dataclass(frozen=True)
class Original:
    """An original to make variants of: its index in the set, path and format."""

    index: int
    path: str
    format: str

    def variant_path(self, kind: str) -> str:
        return f"{kind}/{self.index:06d}-{PurePosixPath(self.path).name}"


@dataclass(frozen=True)
class Outcome:
    """One variant of one original: written at ``path``, or not, for ``reason``."""

    kind: str
    original: str
    path: str = ""
    reason: str = ""


def variants(data: bytes, image_format: str) -> Iterator[tuple[str, bytes | str]]:
    """(kind, the variant's bytes) or (kind, why it does not apply), for every kind in order."""
    for kind, edit in (("stripped", strip_metadata), ("exif_edited", edit_exif), ("comment_added", add_comment)):
        yield kind, _attempt(edit, data, image_format)
    yield "resaved", _attempt(resave, data, image_format)
    half = _attempt(resize, data, image_format)
    yield "resized", half
    yield "resized_new_thumbnail", _attempt(new_thumbnail, half, image_format) if isinstance(half, bytes) else half
    yield from web_variants(data, image_format)


def resave(data: bytes, image_format: str) -> bytes:
    with _open(data, image_format) as image:
        return _encode(image, image.info, image_format)


def resize(data: bytes, image_format: str) -> bytes:
    with _open(data, image_format) as image:
        half = image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.LANCZOS)
        return _encode(half, image.info, image_format)


def new_thumbnail(data: bytes, image_format: str) -> bytes:
    """The JPEG with its EXIF thumbnail remade from its own picture."""
    if image_format != "jpeg":
        raise NotApplicable("EXIF thumbnails are replaced in JPEG only")
    with _open(data, image_format) as image:
        image.draft("RGB", (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2))  # decode at a reduced scale
        small = image.convert("RGB")
    small.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=75)
    return replace_thumbnail(data, out.getvalue())


def _attempt(edit: Edit, data: bytes, image_format: str) -> bytes | str:
    try:
        return edit(data, image_format)
    except NotApplicable as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - Pillow and malformed files raise many kinds; one variant fails, not the run
        return f"{type(exc).__name__}: {describe_error(exc)}"


def _open(data: bytes, image_format: str) -> Image.Image:
    if image_format not in _PILLOW_FORMATS:
        raise NotApplicable(f"{image_format}: Pillow variants only for JPEG, PNG and WebP")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Image.open(io.BytesIO(data))


def _encode(image: Image.Image, info: dict[str | tuple[int, int], Any], image_format: str) -> bytes:
    options = {key: info[key] for key in _KEPT_INFO if info.get(key)}
    if image_format in ("jpeg", "webp"):
        options["quality"] = QUALITY
    out = io.BytesIO()
    image.save(out, _PILLOW_FORMATS[image_format], **options)
    return out.getvalue()


def write_variants(original: Original, data: bytes, out: Path) -> list[Outcome]:
    """Every kind of variant of one original, written under ``out``."""
    outcomes = []
    for kind, result in variants(data, original.format):
        if isinstance(result, str):
            outcomes.append(Outcome(kind, original.path, reason=result))
            continue
        target = out / original.variant_path(kind)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(result)
        outcomes.append(Outcome(kind, original.path, path=original.variant_path(kind)))
    return outcomes


def write_chunk(root: str, originals: list[Original], out: str) -> list[Outcome]:
    """The variants of a chunk of originals read from a folder; the process pool's unit of work."""
    outcomes: list[Outcome] = []
    for original in originals:
        try:
            data = (Path(root) / original.path).read_bytes()
        except OSError as exc:
            outcomes += [Outcome(kind, original.path, reason=describe_error(exc)) for kind in KINDS]
            continue
        outcomes += write_variants(original, data, Path(out))
    return outcomes


def generate(
    source: Path, originals: list[Original], out: Path, pool: Executor | None, progress: Progress
) -> list[Outcome]:
    """Write the variants of ``originals`` (paths in ``source``, a folder or tar archive) under ``out``."""
    progress(0, len(originals))
    if not source.is_dir():
        return _from_tar(source, originals, out, progress)
    outcomes: list[Outcome] = []
    for done, chunk_outcomes in _chunks(source, originals, out, pool):
        outcomes += chunk_outcomes
        progress(done, len(originals))
    return outcomes


def _chunks(
    root: Path, originals: list[Original], out: Path, pool: Executor | None
) -> Iterator[tuple[int, list[Outcome]]]:
    """(originals done so far, outcomes of one more chunk), in the pool when there is one."""
    chunks = [originals[start : start + _CHUNK] for start in range(0, len(originals), _CHUNK)]
    done = 0
    if pool is None:
        for chunk in chunks:
            done += len(chunk)
            yield done, write_chunk(str(root), chunk, str(out))
        return
    futures = {pool.submit(write_chunk, str(root), chunk, str(out)): len(chunk) for chunk in chunks}
    for future in as_completed(futures):
        done += futures[future]
        yield done, future.result()


def _from_tar(archive: Path, originals: list[Original], out: Path, progress: Progress) -> list[Outcome]:
    wanted = {original.path: original for original in originals}
    outcomes: list[Outcome] = []
    reason = "not found again in the archive"
    try:
        for entry in iter_tar(archive):
            if isinstance(entry, Member) and entry.name in wanted:
                outcomes += write_variants(wanted.pop(entry.name), entry.stream.read(), out)
                progress(len(originals) - len(wanted), len(originals))
    except (OSError, EOFError, tarfile.TarError) as exc:
        reason = f"archive damaged: {describe_error(exc)}"
    return outcomes + [Outcome(kind, path, reason=reason) for path in wanted for kind in KINDS]
