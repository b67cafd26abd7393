"""Where the harness gets its bytes: a directory tree or a tar archive.

A local file is just another byte source for the fingerprint code. This
module only finds the files and opens them; it never hashes and never prints.
Everything it cannot use is returned with a reason, so the report can name it:

- a directory that cannot be listed, or a broken symbolic link, is *unreadable*;
- a symbolic link to a directory is *skipped*, never followed (a link loop
  must not hang the walk), as are FIFOs, sockets and devices (reading a FIFO
  would block) and tar members that are links or special files.

A symbolic link to a regular file is read like a file: two names for the same
bytes are duplicates, as two URLs serving the same bytes would be.

Tar archives (plain or compressed, e.g. the official Stanford Dogs
``images.tar``) are read in streaming mode, member by member, without
extracting anything to disk.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Problem:
    """A file or directory the harness could not evaluate, and why."""

    path: str
    reason: str


@dataclass
class Listing:
    """The regular files under a directory (relative POSIX paths, sorted)."""

    files: list[str] = field(default_factory=list)
    unreadable: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Member:
    """One regular file of a tar archive; read ``stream`` before the next member."""

    name: str
    stream: IO[bytes]


def is_tar(path: Path) -> bool:
    """True when ``path`` is a regular file that tarfile can open."""
    try:
        return path.is_file() and tarfile.is_tarfile(path)
    except OSError:
        return False


def list_files(root: Path) -> Listing:
    """Every regular file under ``root``, recursively, without following directory links."""
    listing = Listing()
    pending = [root]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    _classify(root, entry, listing, pending)
        except OSError as exc:
            reason = f"cannot list directory: {describe_error(exc)}"
            listing.unreadable.append(Problem(_relative(root, directory), reason))
    listing.files.sort()
    return listing


def _classify(root: Path, entry: os.DirEntry[str], listing: Listing, pending: list[Path]) -> None:
    relative = _relative(root, Path(entry.path))
    if entry.is_dir(follow_symlinks=False):
        pending.append(Path(entry.path))
    elif entry.is_file():
        listing.files.append(relative)
    elif not entry.is_symlink():
        listing.skipped.append(Problem(relative, "not a regular file (FIFO, socket or device)"))
    elif entry.is_dir():
        listing.skipped.append(Problem(relative, "symbolic link to a directory, not followed"))
    elif not os.path.exists(entry.path):
        listing.unreadable.append(Problem(relative, "broken symbolic link"))
    else:
        listing.skipped.append(Problem(relative, "symbolic link to a special file, not followed"))


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix() if path != root else "."


def describe_error(exc: BaseException) -> str:
    """A short human reason for an exception raised while reading a source."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def iter_tar(path: Path) -> Iterator[Member | Problem]:
    """Regular members of a tar archive, streamed in archive order; others as skipped.

    Raises ``OSError``, ``EOFError`` or ``tarfile.TarError`` when the archive
    is damaged; the caller records that and keeps what was read before.
    """
    with tarfile.open(path, mode="r|*") as archive:
        for info in archive:
            if info.isdir():
                continue
            if not info.isfile():
                kind = "link" if info.issym() or info.islnk() else "special file"
                yield Problem(info.name, f"tar member is a {kind}, not followed")
                continue
            stream = archive.extractfile(info)
            if stream is not None:
                yield Member(info.name, stream)
