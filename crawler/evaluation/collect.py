"""Source -> inventory: every file hashed once and sorted into what it is.

A directory is listed first, then its files are hashed in a process pool
(chunks of paths go to the workers, which open and read the files
themselves, so only paths and small results cross process boundaries). A tar
archive is streamed in this process: its members come in archive order from
one sequential read, and hashing is cheap next to that read.

Progress is reported through a callback, ``progress(done, total)`` (``total``
is None for a tar archive, whose size in files is unknown until the end). It
is first called once the worker processes exist, so a caller may start a
display thread then without forking a process that holds its locks.
"""

from __future__ import annotations

import tarfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from crawler.evaluation.hashing import FileResult, HashParams, hash_file, hash_files, hash_stream
from crawler.evaluation.sources import Member, Problem, describe_error, iter_tar, list_files

Progress = Callable[[int, int | None], None]
_MAX_CHUNK = 256


@dataclass
class Inventory:
    """Every file of the source, by class; each list sorted by path."""

    source: str
    kind: Literal["directory", "tar"]
    images: list[FileResult] = field(default_factory=list)
    small: list[FileResult] = field(default_factory=list)
    non_image: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    unreadable: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    workers: int = 1

    @property
    def files_seen(self) -> int:
        """Entries met, whatever became of them (an unlistable directory counts as one)."""
        evaluated = len(self.images) + len(self.small) + len(self.non_image) + len(self.empty)
        return evaluated + len(self.unreadable) + len(self.skipped)

    def add(self, result: FileResult) -> None:
        if result.kind == "image":
            self.images.append(result)
        elif result.kind == "small":
            self.small.append(result)
        elif result.kind == "non_image":
            self.non_image.append(result.path)
        elif result.kind == "empty":
            self.empty.append(result.path)
        else:
            self.unreadable.append(Problem(result.path, result.error))

    def sort(self) -> None:
        for results in (self.images, self.small):
            results.sort(key=lambda r: r.path)
        for names in (self.non_image, self.empty):
            names.sort()
        for problems in (self.unreadable, self.skipped):
            problems.sort(key=lambda p: p.path)


def collect(
    source: Path, params: HashParams, workers: int = 1, progress: Progress | None = None
) -> Inventory:
    """Hash every file of ``source`` (a directory or a tar archive) once."""
    started = time.perf_counter()
    notify = progress or (lambda done, total: None)
    if source.is_dir():
        inventory = Inventory(str(source), "directory", workers=workers)
        _collect_directory(source, params, workers, notify, inventory)
    else:
        inventory = Inventory(str(source), "tar", workers=1)
        _collect_tar(source, params, notify, inventory)
    inventory.sort()
    inventory.elapsed_seconds = time.perf_counter() - started
    return inventory


def _collect_directory(
    root: Path, params: HashParams, workers: int, notify: Progress, inventory: Inventory
) -> None:
    listing = list_files(root)
    inventory.unreadable.extend(listing.unreadable)
    inventory.skipped.extend(listing.skipped)
    for result in _hash_paths(root, listing.files, params, workers, notify):
        inventory.add(result)


def _hash_paths(
    root: Path, paths: list[str], params: HashParams, workers: int, notify: Progress
) -> Iterator[FileResult]:
    total = len(paths)
    if workers <= 1 or total < 2:
        notify(0, total)
        for done, path in enumerate(paths, start=1):
            yield hash_file(root, path, params)
            notify(done, total)
        return
    size = max(1, min(_MAX_CHUNK, -(-total // (workers * 8))))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(hash_files, str(root), paths[start : start + size], params)
            for start in range(0, total, size)
        ]
        notify(0, total)
        done = 0
        for future in as_completed(futures):
            results = future.result()
            done += len(results)
            yield from results
            notify(done, total)


def _collect_tar(archive: Path, params: HashParams, notify: Progress, inventory: Inventory) -> None:
    notify(0, None)
    done, current = 0, ""
    try:
        for entry in iter_tar(archive):
            if isinstance(entry, Member):
                current = entry.name
                inventory.add(hash_stream(entry.name, entry.stream, params))
            else:
                inventory.skipped.append(entry)
            done += 1
            notify(done, None)
    except (OSError, EOFError, tarfile.TarError) as exc:
        where = f" while reading {current}" if current else ""
        inventory.unreadable.append(Problem(archive.name, f"archive damaged{where}: {describe_error(exc)}"))
