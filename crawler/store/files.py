"""Output files: one JSON array of image records per listed URL.

``data/<host>/<id>.json``, where ``id`` is derived from the listed URL, is
written atomically (temporary file in the same folder, fsync, rename), so a
run killed at any moment leaves only complete files. A URL whose file exists
is done, unless a record in it failed for a reason worth retrying (timeout,
proxy down, 5xx...): a later run refetches that page and replaces the file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import TypeAdapter

from crawler.errors import RETRYABLE_KINDS, OutputError
from crawler.models import ImageRecord
from crawler.redact import redact_url

_RECORDS = TypeAdapter(list[ImageRecord])
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_TEMP_SUFFIX = ".partial"


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._mode = 0o666 & ~_umask()  # what open() would give a new file; mkstemp gives 0600

    def check_writable(self) -> None:
        """Create the folder and a file in it, or say why not (before any request is made)."""
        if self.root.exists() and not self.root.is_dir():
            raise OutputError(f"cannot write to the output folder {self.root}: it is a file, not a folder")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.root, prefix=".write-check.", suffix=_TEMP_SUFFIX)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise OutputError(f"cannot write to the output folder {self.root}: {exc.strerror or exc}") from None

    def path_for(self, url: str) -> Path:
        parts = urlsplit(redact_url(url))  # a folder name must not hold the URL's password
        host = _UNSAFE.sub("_", parts.netloc.lower()) or "_"
        return self.root / host / f"{hashlib.sha256(url.encode()).hexdigest()[:20]}.json"

    def is_done(self, url: str) -> bool:
        """True when a previous run finished ``url`` with nothing worth retrying."""
        path = self.path_for(url)
        try:
            records = _RECORDS.validate_json(path.read_bytes())
        except (OSError, ValueError):
            return False
        return not any(record.error_kind in RETRYABLE_KINDS for record in records)

    def write(self, url: str, records: list[ImageRecord]) -> Path:
        """Write ``url``'s records atomically; :class:`OutputError` when the disk refuses (full, read-only)."""
        path = self.path_for(url)
        payload = _RECORDS.dump_json(records, indent=2)  # UTF-8, as json.dumps(..., ensure_ascii=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=_TEMP_SUFFIX)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), self._mode)
                handle.write(payload + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException as exc:
            Path(temp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
            raise
        return path

    def remove_partial_files(self) -> int:
        """Delete temporary files a killed run left behind; returns how many."""
        if not self.root.is_dir():
            return 0
        stale = list(self.root.glob(f"*/.*{_TEMP_SUFFIX}"))
        for temp in stale:
            temp.unlink(missing_ok=True)
        return len(stale)


def _umask() -> int:
    current = os.umask(0o022)  # the only way to read it is to set it
    os.umask(current)
    return current
