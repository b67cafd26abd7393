"""What ``crawler match`` reports: groups of rows, as JSON (``--format jsonl``) and for people.

Plain dataclasses, since a large index gives hundreds of thousands of members
(building pydantic models costs more than finding them); pydantic still
validates, serialises and describes them through :data:`GROUPS`:
``crawler schema --groups`` prints its JSON Schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field, TypeAdapter


@dataclass(slots=True)
class Member:
    """One place an image was seen: an image URL on a page."""

    url: Annotated[str, Field(description="Image URL.")]
    page_url: Annotated[str | None, Field(description="Page it was found on; null when listed directly.")]
    host: Annotated[str, Field(description="Host (and port) of the image URL.")]
    first_seen: Annotated[str, Field(description="First time fetched (UTC).")]
    last_seen: Annotated[str, Field(description="Last time fetched (UTC).")]
    first_run: Annotated[str, Field(description="Run id of the first crawl that saw it.")]
    last_run: Annotated[str, Field(description="Run id of the last crawl that saw it.")]
    image_size: Annotated[int | None, Field(description="Total size in bytes.")]
    format: Annotated[str | None, Field(description="Format sniffed from the bytes.")]
    width: Annotated[int | None, Field(description="Pixel width.")]
    height: Annotated[int | None, Field(description="Pixel height.")]
    exif_make: Annotated[str | None, Field(description="EXIF camera make.")]
    exif_model: Annotated[str | None, Field(description="EXIF camera model.")]
    exif_taken: Annotated[str | None, Field(description="EXIF date taken (DateTimeOriginal, else DateTime).")]
    exif_gps: Annotated[bool, Field(description="Whether the EXIF holds GPS tags.")]
    etag: Annotated[str | None, Field(description="ETag, supporting evidence only (same host).")]
    file: Annotated[int, Field(description="Byte-identical copies share a file number within the group (level 1).")]
    picture: Annotated[int, Field(description="Copies of one picture share a picture number within the group (level 2).")]
    phash_distance: Annotated[int | None, Field(description="pHash Hamming distance to the group's first member with a pHash of the same kind; null without one.")]
    phash_kind: Annotated[str | None, Field(description="What the pHash was computed from: exif_thumbnail, or a top band of the picture (top_band_8); only hashes of one kind compare.")] = None
    thumbnail: Annotated[str | None, Field(description="Kept EXIF thumbnail file, relative to the output folder.")] = None


@dataclass(slots=True)
class Group:
    """Images tied together by evidence, strongest groups first."""

    group: Annotated[int, Field(description="1-based position in the report.")]
    level: Annotated[int, Field(description="1 identical file, 2 same picture (metadata differs), 3 similar picture.")]
    evidence: Annotated[str, Field(description="The level in words: the weakest link that holds the group together.")]
    supporting: Annotated[list[str], Field(description="Supporting evidence that proves nothing alone (equal ETags).")]
    hosts: Annotated[int, Field(description="Distinct hosts.")]
    urls: Annotated[int, Field(description="Distinct image URLs.")]
    max_phash_distance: Annotated[int | None, Field(description="Largest pHash distance shown in the group.")]
    members: list[Member]
    known: Annotated[list[KnownHit], Field(description="Known-set entries this group matches.")] = field(default_factory=list)


@dataclass(slots=True)
class KnownHit:
    """An entry of a known-image set that matches the group."""

    set: Annotated[str, Field(description="Known set name.")]
    category: Annotated[str, Field(description="Its category (notable, irrelevant...).")]
    path: Annotated[str, Field(description="The file's path in the set's source folder or archive.")]
    level: Annotated[int, Field(description="Evidence level of the match (1, 2 or 3).")]
    evidence: Annotated[str, Field(description="The level in words.")]
    phash_distance: Annotated[int | None, Field(description="pHash distance when level 3.")]


GROUPS: TypeAdapter[Group] = TypeAdapter(Group)
