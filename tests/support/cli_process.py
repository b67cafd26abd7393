"""The real CLI as a child process that tests can signal, wait for and measure.

Unlike ``subprocess.run``, :func:`start` hands back the process so a test can
kill or interrupt it mid-run, and :func:`finish` reports the child's peak
resident memory (``wait4``), which is how the fault tests check that a gzip
bomb or a 100,000-image page did not balloon. Output goes to files, not
pipes, so a chatty child never blocks on a full pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mib: float


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    workdir: Path
    started: float


def child_env() -> dict[str, str]:
    """This checkout first on the path; a wide console so the summary's rows never wrap."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}


def start(workdir: Path, *args: str, wrapper: Sequence[str] = ()) -> Running:
    """Start ``crawler ARGS`` in ``workdir``; ``wrapper`` is a command to run it under (e.g. ``unshare``)."""
    env = child_env()
    command = [*wrapper, sys.executable, "-m", "crawler", *args]
    with (workdir / "cli.stdout").open("wb") as out, (workdir / "cli.stderr").open("wb") as err:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=err)
    return Running(process, workdir, time.monotonic())


def finish(running: Running, timeout: float = 120.0) -> Finished:
    """Wait for the child (killing it after ``timeout`` s) and collect what it left."""
    deadline = time.monotonic() + timeout
    peak_kib = 0
    while True:
        pid, status, usage = os.wait4(running.process.pid, os.WNOHANG)
        if pid:
            break
        peak_kib = max(peak_kib, _high_water_kib(running.process.pid))
        if time.monotonic() > deadline:
            running.process.kill()
            raise AssertionError(f"the CLI ran longer than {timeout} s")
        time.sleep(0.02)
    running.process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss also counts the forked child before its exec, a copy of this test
    # process (hundreds of MiB late in a full run): the child's own high-water mark
    # (VmHWM, read while it ran) is its peak; ru_maxrss only for a run too short to read.
    return Finished(
        returncode=running.process.returncode,
        stdout=(running.workdir / "cli.stdout").read_text(errors="replace"),
        stderr=(running.workdir / "cli.stderr").read_text(errors="replace"),
        seconds=time.monotonic() - running.started,
        max_rss_mib=(peak_kib or usage.ru_maxrss) / 1024,  # Linux reports KiB
    )


def _high_water_kib(pid: int) -> int:
    """The peak resident memory of a running process's current program (Linux VmHWM), 0 if unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run(workdir: Path, *args: str, timeout: float = 120.0, wrapper: Sequence[str] = ()) -> Finished:
    return finish(start(workdir, *args, wrapper=wrapper), timeout)


def load_files(output: Path) -> dict[str, list[dict[str, Any]]]:
    """Every output file (relative path -> its records); fails on a file that is not complete JSON."""
    return {str(path.relative_to(output)): json.loads(path.read_text()) for path in sorted(output.rglob("*.json"))}


def load_records(output: Path) -> list[dict[str, Any]]:
    """Every record of every output file, files in path order."""
    return [record for records in load_files(output).values() for record in records]
