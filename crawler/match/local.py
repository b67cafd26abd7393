"""A local image file -> the record a crawl would write for it, with the crawler's own code.

The file goes through the same adaptive loop, replayed over its bytes
(:func:`crawler.fingerprint.plan.replay`), and the same
:func:`crawler.fingerprint.compute.fingerprint`, so it matches the index on
equal terms with crawled images. Known-image sets and ``crawler match
--image FILE`` use it; a URL goes through the crawl's own pipeline
(:mod:`crawler.run.probe`).
"""

from __future__ import annotations

from pathlib import Path

from crawler.fingerprint.compute import fingerprint
from crawler.fingerprint.plan import RangePolicy, replay
from crawler.models import ImageRecord
from crawler.settings import FingerprintSettings


def file_record(name: str, data: bytes, settings: FingerprintSettings) -> ImageRecord:
    """The record a crawl would write for ``data`` served whole at ``name``."""
    fetched = replay(data, RangePolicy.from_settings(settings), settings.prefix_bytes)
    fields = fingerprint(data[: settings.prefix_bytes], settings.sample_bytes, fetched.layout, settings.content_bytes)
    return ImageRecord(url=name, status="ok", image_size=len(data), bytes_fetched=fetched.bytes_fetched, **vars(fields))


def read_file_record(target: str, settings: FingerprintSettings) -> ImageRecord:
    """The record of a local file; an unreadable file is an error record."""
    try:
        data = Path(target).read_bytes()
    except OSError as exc:
        return ImageRecord(url=target, status="error", error_kind="unreadable", error=f"cannot read {target}: {exc.strerror}")
    return file_record(target, data, settings)
