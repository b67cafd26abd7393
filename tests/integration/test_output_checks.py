"""Input and output that cannot work stop the run with a reason, never silently.

The real CLI against nginx on loopback: an output folder that is a file stops
the run before any request (exit 2); a disk that fills up mid-run (a 64 KiB
tmpfs mounted in a private mount namespace with ``unshare``) stops it with
the reason and exit 1, keeping only complete files, in one process and in
two; a URL list that is a binary file is refused with one line; many bad
lines are summarised; files follow the umask.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import cli_process
from tests.support.servers import Nginx

PAGES = 40


@pytest.fixture
def nginx(tmp_path: Path, corpus: Path, nginx_factory: Callable[[Path], Nginx]) -> Nginx:
    root = tmp_path / "site"
    root.mkdir()
    shutil.copyfile(corpus / "jpeg" / "Canon_PowerShot_S40_2.jpg", root / "a.jpg")
    for number in range(PAGES):
        (root / f"p{number}.html").write_text('<html><body><img src="a.jpg"></body></html>')
    return nginx_factory(root)


def url_list(workdir: Path, nginx: Nginx) -> Path:
    path = workdir / "urls.txt"
    path.write_text("".join(nginx.url(f"/p{number}.html") + "\n" for number in range(PAGES)))
    return path


@pytest.mark.parametrize(
    ("output", "reason"),
    [("out", "it is a file, not a folder"), ("out/data", "Not a directory")],
    ids=["the-folder-is-a-file", "the-folder-is-inside-a-file"],
)
def test_an_output_folder_that_is_or_is_inside_a_file_stops_before_any_request(
    tmp_path: Path, nginx: Nginx, output: str, reason: str
) -> None:
    url_list(tmp_path, nginx)
    (tmp_path / "out").write_text("not a folder")
    result = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", output, "--no-progress")
    assert result.returncode == 2
    assert f"crawler: cannot write to the output folder {output}: {reason}" in result.stderr
    assert nginx.access_log() == []


def small_disk(mount: Path) -> list[str]:
    """A command prefix that runs the CLI with a 64 KiB tmpfs at ``mount``, seen only by it."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a full disk is simulated with unshare and a tmpfs, which needs root")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode().strip()}")
    mount.mkdir()
    script = f'mount -t tmpfs -o size=64k tmpfs "{mount}" && exec "$@"'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"]


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_full_disk_stops_the_run_with_the_reason_and_keeps_complete_files(
    tmp_path: Path, nginx: Nginx, processes: str
) -> None:
    url_list(tmp_path, nginx)
    out = tmp_path / "out"
    wrapper = small_disk(out)
    script = tmp_path / "list-files.sh"  # the tmpfs vanishes with the namespace: list what it held from inside
    script.write_text(f'"$@"; code=$?; find "{out}" -name "*.json" -exec cat {{}} + > "{tmp_path}/kept.json"; exit $code\n')
    result = cli_process.run(
        tmp_path, "crawl", "urls.txt", "-o", str(out), "--no-progress", "--processes", processes, "--per-host", "2",
        "--no-index",  # the JSON files fill the disk here; the index has its own failure handling
        wrapper=[*wrapper, "sh", str(script)],
    )
    assert result.returncode == 1, result.stderr
    assert "No space left on device; the files written so far are kept, rerun to resume" in result.stderr
    kept = (tmp_path / "kept.json").read_text()
    files = [json.loads(chunk) for chunk in kept.replace("]\n[", "]\n\x00[").split("\x00") if chunk.strip()]
    assert 0 < len(files) < PAGES, "the disk should hold some files, not all"
    assert all(len(records) == 1 and records[0]["status"] == "ok" for records in files)
    fetched = [line for line in nginx.access_log() if "/p" in line.split()[1]]
    assert len(fetched) < PAGES, "the run went on fetching pages whose records could not be kept"


def test_a_binary_url_list_is_refused_with_one_line(tmp_path: Path, corpus: Path) -> None:
    shutil.copyfile(corpus / "jpeg" / "Canon_PowerShot_S40_2.jpg", tmp_path / "urls.txt")
    result = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "out", "--no-progress")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["crawler: urls.txt is not a text file of URLs (binary data at byte 4)"]
    assert not (tmp_path / "out").exists()


def test_many_bad_lines_are_summarised(tmp_path: Path, nginx: Nginx) -> None:
    (tmp_path / "urls.txt").write_text("".join(f"not a url {n}\n" for n in range(1000)) + nginx.url("/p0.html") + "\n")
    result = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "out", "--no-progress")
    assert result.returncode == 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("urls.txt:")]
    assert lines[:5] == [f"urls.txt:{n + 1}: skipped 'not a url {n}': not an absolute URL" for n in range(5)]
    assert lines[5:] == ["urls.txt: 995 more line(s) skipped as not URLs (1000 in all)"]


@contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_output_files_follow_the_umask(tmp_path: Path, nginx: Nginx, mask: int, mode: int) -> None:
    (tmp_path / "urls.txt").write_text(nginx.url("/p0.html") + "\n")
    with umask(mask):  # the child inherits it
        result = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "out", "--no-progress")
    assert result.returncode == 0, result.stderr
    [written] = (tmp_path / "out").rglob("*.json")
    assert written.stat().st_mode & 0o777 == mode
