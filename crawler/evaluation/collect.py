"""Source -> inventory: every file hashed once and sorted into what it is.

A directory is listed first, then its files are hashed in a process pool
(chunks of paths go to the workers, which open and read the files
themselves, so only paths and small results cross process boundaries). A tar
archive is one sequential stream, read in this process; its members go to
the pool in chunks with their bytes (hashing, which replays the adaptive
range loop at several K, costs more than shipping them), at most a few
chunks ahead of the results, so memory stays bounded.

Progress is reported through a callback, ``progress(done, total)`` (``total``
is None for a tar archive, whose size in files is unknown until the end).
:func:`worker_pool` forks every worker before returning, and the callback is
first called after that, so a caller may start a display thread then without
forking a process that holds its locks; a caller that runs several phases
(the variant sets) keeps one pool for all of them.
"""

from __future__ import annotations

import tarfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from crawler.evaluation.hashing import (
    FileResult,
    HashParams,
    classify,
    hash_file,
    hash_files,
    hash_members,
)
from crawler.evaluation.sources import (
    Member,
    Problem,
    describe_error,
    iter_tar,
    list_files,
)

Progress = Callable[[int, int | None], None]
_MAX_CHUNK = 256
_TAR_CHUNK = 64  # members per task
_TAR_AHEAD = 4  # tasks in flight per worker


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


@contextmanager
def worker_pool(workers: int) -> Iterator[Executor | None]:
    """A process pool of ``workers`` processes, all forked on entry; None for one worker."""
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pool.submit(int).result()  # with fork, the first task starts every worker
        yield pool


def collect(
    source: Path,
    params: HashParams,
    workers: int = 1,
    progress: Progress | None = None,
    pool: Executor | None = None,
) -> Inventory:
    """Hash every file of ``source`` (a directory or a tar archive) once, in ``pool`` or a new one."""
    if pool is None and workers > 1:
        with worker_pool(workers) as own:
            return collect(source, params, workers, progress, own)
    started = time.perf_counter()
    notify = progress or (lambda done, total: None)
    if source.is_dir():
        inventory = Inventory(str(source), "directory", workers=workers if pool is not None else 1)
        _collect_directory(source, params, (pool, inventory.workers), notify, inventory)
    else:
        inventory = Inventory(str(source), "tar", workers=workers if pool is not None else 1)
        _collect_tar(source, _Members(params, pool, inventory.workers), notify, inventory)
    inventory.sort()
    inventory.elapsed_seconds = time.perf_counter() - started
    return inventory


def _collect_directory(
    root: Path, params: HashParams, pool: tuple[Executor | None, int], notify: Progress, inventory: Inventory
) -> None:
    listing = list_files(root)
    inventory.unreadable.extend(listing.unreadable)
    inventory.skipped.extend(listing.skipped)
    for result in _hash_paths(root, listing.files, params, pool, notify):
        inventory.add(result)


def _hash_paths(
    root: Path, paths: list[str], params: HashParams, pool: tuple[Executor | None, int], notify: Progress
) -> Iterator[FileResult]:
    """Hash ``paths`` in ``pool`` (an executor and its worker count), or here when there is none."""
    total = len(paths)
    notify(0, total)
    executor, workers = pool
    if executor is None or total < 2:
        for done, path in enumerate(paths, start=1):
            yield hash_file(root, path, params)
            notify(done, total)
        return
    size = max(1, min(_MAX_CHUNK, -(-total // (workers * 8))))
    futures = [
        executor.submit(hash_files, str(root), paths[start : start + size], params)
        for start in range(0, total, size)
    ]
    done = 0
    for future in as_completed(futures):
        results = future.result()
        done += len(results)
        yield from results
        notify(done, total)


def _collect_tar(archive: Path, members: _Members, notify: Progress, inventory: Inventory) -> None:
    notify(0, None)
    current = ""
    try:
        for entry in iter_tar(archive):
            if isinstance(entry, Member):
                current = entry.name
                _add(inventory, members.add(entry.name, entry.stream.read()), notify)
            else:
                _add(inventory, [entry], notify)
    except (OSError, EOFError, tarfile.TarError) as exc:
        where = f" while reading {current}" if current else ""
        inventory.unreadable.append(Problem(archive.name, f"archive damaged{where}: {describe_error(exc)}"))
    _add(inventory, members.finish(), notify)


def _add(inventory: Inventory, entries: list[FileResult] | list[Problem], notify: Progress) -> None:
    for entry in entries:
        if isinstance(entry, Problem):
            inventory.skipped.append(entry)
        else:
            inventory.add(entry)
    if entries:
        notify(inventory.files_seen, None)


class _Members:
    """Hashes tar members here, or in chunks in a pool; returns the results as they are ready."""

    def __init__(self, params: HashParams, pool: Executor | None, workers: int) -> None:
        self._params, self._pool, self._ahead = params, pool, _TAR_AHEAD * workers
        self._chunk: list[tuple[str, bytes]] = []
        self._pending: deque[Future[list[FileResult]]] = deque()

    def add(self, name: str, data: bytes) -> list[FileResult]:
        if self._pool is None:
            return [classify(name, data, self._params)]
        self._chunk.append((name, data))
        if len(self._chunk) < _TAR_CHUNK:
            return []
        self._submit()
        return self._pending.popleft().result() if len(self._pending) > self._ahead else []

    def finish(self) -> list[FileResult]:
        if self._chunk:
            self._submit()
        results = [result for future in self._pending for result in future.result()]
        self._pending.clear()
        return results

    def _submit(self) -> None:
        assert self._pool is not None
        self._pending.append(self._pool.submit(hash_members, self._chunk, self._params))
        self._chunk = []
