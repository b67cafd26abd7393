"""Kept EXIF thumbnails (``output.keep_thumbnails``): files beside the records, never in the index.

Off by default: the crawler stores pictures only when asked. A thumbnail is
stored once by its SHA-256 (``<output>/thumbnails/ab/abcd....jpg``, written
atomically), so an image seen on many pages costs one file; the record
names it in ``thumbnail_file`` and ``crawler match --html`` embeds it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

FOLDER = "thumbnails"


def keep_thumbnail(root: Path, data: bytes) -> str:
    """Store ``data`` under ``root`` if not there yet; its path relative to ``root``."""
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{FOLDER}/{digest[:2]}/{digest}.jpg"
    path = root / relative
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".thumb.", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    return relative
