"""What ``crawler match`` reports: groups of rows, as JSON (``--format jsonl``) and for people.

``crawler schema --groups`` prints the JSON Schema generated from :class:`Group`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Member(BaseModel):
    """One place an image was seen: an image URL on a page."""

    url: str = Field(description="Image URL.")
    page_url: str | None = Field(description="Page it was found on; null when listed directly.")
    host: str = Field(description="Host (and port) of the image URL.")
    first_seen: str = Field(description="First time fetched (UTC).")
    last_seen: str = Field(description="Last time fetched (UTC).")
    first_run: str = Field(description="Run id of the first crawl that saw it.")
    last_run: str = Field(description="Run id of the last crawl that saw it.")
    image_size: int | None = Field(description="Total size in bytes.")
    format: str | None = Field(description="Format sniffed from the bytes.")
    width: int | None = Field(description="Pixel width.")
    height: int | None = Field(description="Pixel height.")
    exif_make: str | None = Field(description="EXIF camera make.")
    exif_model: str | None = Field(description="EXIF camera model.")
    exif_taken: str | None = Field(description="EXIF date taken (DateTimeOriginal, else DateTime).")
    exif_gps: bool = Field(description="Whether the EXIF holds GPS tags.")
    etag: str | None = Field(description="ETag, supporting evidence only (same host).")
    file: int = Field(description="Byte-identical copies share a file number within the group (level 1).")
    picture: int = Field(description="Copies of one picture share a picture number within the group (level 2).")
    phash_distance: int | None = Field(
        description="pHash Hamming distance to the group's first member with a pHash; null without one."
    )
    thumbnail: str | None = Field(default=None, description="Kept EXIF thumbnail file, relative to the output folder.")


class Group(BaseModel):
    """Images tied together by evidence, strongest groups first."""

    group: int = Field(description="1-based position in the report.")
    level: int = Field(description="1 identical file, 2 same picture (metadata differs), 3 similar picture.")
    evidence: str = Field(description="The level in words: the weakest link that holds the group together.")
    supporting: list[str] = Field(description="Supporting evidence that proves nothing alone (equal ETags).")
    hosts: int = Field(description="Distinct hosts.")
    urls: int = Field(description="Distinct image URLs.")
    max_phash_distance: int | None = Field(description="Largest pHash distance shown in the group.")
    members: list[Member]
    known: list[KnownHit] = Field(default_factory=list, description="Known-set entries this group matches.")


class KnownHit(BaseModel):
    """An entry of a known-image set that matches the group."""

    set: str = Field(description="Known set name.")
    category: str = Field(description="Its category (notable, irrelevant...).")
    path: str = Field(description="The file's path in the set's source folder or archive.")
    level: int = Field(description="Evidence level of the match (1, 2 or 3).")
    evidence: str = Field(description="The level in words.")
    phash_distance: int | None = Field(description="pHash distance when level 3.")


Group.model_rebuild()
