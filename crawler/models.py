"""The image record: the JSON the crawler writes and other tools read.

Field names of the first version (``url``, ``image_size``, ``etag``,
``timestamp``, ``exif``, ``sha256_first_10240_bytes``,
``random_128_bytes_sample_start``) are kept as they are; fields are only ever
added. ``crawler schema`` prints the JSON Schema generated from this model.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

Status = Literal["ok", "skipped", "error"]

HASHED_PREFIX_BYTES = 10240  # fixed by the field name sha256_first_10240_bytes


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ImageRecord(BaseModel):
    """What the crawler learned about one image URL (or why it could not)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Image URL as fetched (absolute, fragment dropped).")
    final_url: str | None = Field(
        default=None, description="Where redirects led, when that differs from url."
    )
    page_url: str | None = Field(
        default=None, description="Page the image was found on; null when listed directly."
    )
    status: Status = Field(description="ok: fingerprinted; skipped: deliberately not; error: failed.")
    error: str | None = Field(default=None, description="Why the status is not ok, for people.")
    error_kind: str | None = Field(
        default=None, description="Stable token for the reason (http_404, timeout, too_small...)."
    )
    image_size: int | None = Field(
        default=None, description="Total size in bytes from Content-Range/Content-Length; null if unknown."
    )
    etag: str | None = Field(default=None, description="ETag with W/ and quotes stripped.")
    etag_raw: str | None = Field(default=None, description="ETag header exactly as sent.")
    last_modified: str | None = Field(default=None, description="Last-Modified header as sent.")
    content_type: str | None = Field(default=None, description="Content-Type header as sent.")
    format: str | None = Field(default=None, description="Format sniffed from the bytes (jpeg, png...).")
    width: int | None = Field(default=None, description="Pixel width, when the fetched bytes tell.")
    height: int | None = Field(default=None, description="Pixel height, when the fetched bytes tell.")
    progressive: bool | None = Field(
        default=None, description="Progressive JPEG / interlaced PNG or GIF; null when unknown."
    )
    image_data_offset: int | None = Field(
        default=None, description="Where the image data begins (after the JPEG SOS header, first IDAT...)."
    )
    content_sha256: str | None = Field(
        default=None,
        description="SHA-256 of what defines the picture, not its metadata (JPEG: frame header, tables "
        "and the first content_bytes of entropy-coded data); equal when only metadata differs.",
    )
    perceptual_hash: str | None = Field(
        default=None, description="pHash (64-bit hex, imagehash) of a picture found in the fetched bytes."
    )
    perceptual_hash_source: str | None = Field(
        default=None,
        description="What perceptual_hash was computed from: exif_thumbnail, or the top band of the picture "
        "and its decoder (e.g. top_band_8:jpeg_baseline); only hashes of the same source kind compare; null if none.",
    )
    timestamp: datetime = Field(default_factory=utc_now, description="When fetched (UTC, ISO 8601).")
    exif: dict[str, str] = Field(
        default_factory=dict, description="EXIF tags read by exifread: tag name -> printable value."
    )
    sha256_first_10240_bytes: str | None = Field(
        default=None, description="SHA-256 (hex) of exactly the first 10,240 bytes."
    )
    random_128_bytes_sample_start: str | None = Field(
        default=None, description="Hex of a 128-byte sample of the prefix, taken at sample_offset."
    )
    sample_offset: int | None = Field(
        default=None, description="Offset of the sample; derived from the prefix hash, so reproducible."
    )
    bytes_fetched: int = Field(
        default=0, description="Body bytes read from the network for this image, follow-up ranges included."
    )
    range_requests: int = Field(default=0, description="Follow-up Range requests after the prefix.")
    follow_up_error: str | None = Field(
        default=None, description="Why the follow-up ranges stopped early; the fields hold what was fetched."
    )
    range_ignored: bool | None = Field(
        default=None,
        description="Whether the server answered the Range request with the whole file (200); the answer was "
        "then read on as far as the format needs, within fingerprint.max_bytes_per_image. Null when no answer tells.",
    )
    content_encoding: str | None = Field(
        default=None,
        description="Content-Encoding as sent when the image came compressed although identity was asked "
        "(the body was decoded; image_size is then not taken from Content-Range); null when not encoded.",
    )
    via_tor: bool | None = Field(
        default=None, description="Whether the image came through a Tor proxy; null when nothing was fetched."
    )
    tls_verified: bool | None = Field(
        default=None,
        description="https: whether the certificate was verified (false only for onion services with "
        "safety.verify_onion_tls off); null for http or when nothing was fetched.",
    )
    thumbnail_file: str | None = Field(
        default=None,
        description="The kept EXIF thumbnail, relative to the output folder (only with output.keep_thumbnails).",
    )

    @field_serializer("timestamp")
    def _iso_utc(self, value: datetime) -> str:
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
