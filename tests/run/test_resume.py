"""Nothing lost: the real CLI killed (SIGKILL) or interrupted (SIGINT) mid-crawl, then rerun.

A site of 60 pages with 5 images each is served by the faulty server with a
small delay per request, so that a crawl takes a couple of seconds and a
signal lands mid-run. The kills come after a random number of requests
(seeded), so they fall while requests are in flight and files are being
written. After every kill all output files must be complete JSON; each
rerun must skip the pages finished before (checked in the server's request
log) and fetch the rest; the final union must equal an uninterrupted run's
output, record for record, timestamps aside.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.store.files import Store
from tests.support import cli_process
from tests.support import faulty_server as fs

PAGES = 60
IMAGES_PER_PAGE = 5
REQUESTS = PAGES * (1 + IMAGES_PER_PAGE)  # a page fits in its Range answer: one request each
ARGS = ("crawl", "urls.txt", "--concurrency", "4", "--per-host", "4", "--max-rounds", "0", "--no-progress")


def image(name: str) -> bytes:
    """A 30,000-byte JPEG-looking file, different for every name."""
    seed = hashlib.sha256(name.encode()).digest()
    return b"\xff\xd8\xff\xe0" + (seed * 938)[:29_996]


@dataclass
class Site:
    server: fs.FaultyServer
    workdir: Path
    pages: list[str]  # listed URLs
    reference: dict[str, list[dict[str, Any]]]  # output of an uninterrupted run

    def images_of(self, page: str) -> set[str]:
        number = page.rsplit("/", 1)[1].removesuffix(".html")
        return {f"/i/{number}-{j}.jpg" for j in range(IMAGES_PER_PAGE)}

    def finished(self, output: Path) -> set[str]:
        """Listed pages whose file exists (a file exists only once complete)."""
        store = Store(output)
        return {page for page in self.pages if store.path_for(page).is_file()}

    def run(self, output: str, *extra: str) -> cli_process.Running:
        return cli_process.start(self.workdir, *ARGS, "-o", output, *extra)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("resume")
    server = fs.FaultyServer(delay=0.02)
    pages = []
    for number in range(PAGES):
        srcs = "".join(f'<img src="/i/{number}-{j}.jpg">' for j in range(IMAGES_PER_PAGE))
        body = f"<!doctype html><html><body><h1>page {number}</h1>{srcs}</body></html>".encode()
        pages.append(server.route(f"/p/{number}.html", fs.static(body, "text/html")))
        for j in range(IMAGES_PER_PAGE):
            server.route(f"/i/{number}-{j}.jpg", fs.static(image(f"{number}-{j}")))
    (workdir / "urls.txt").write_text("\n".join(pages) + "\n")
    try:
        site = Site(server, workdir, pages, {})
        result = cli_process.finish(site.run("reference"))
        assert result.returncode == 0, result.stderr
        assert len(server.requests) == REQUESTS
        site.reference = cli_process.load_files(workdir / "reference")
        yield site
    finally:
        server.stop()


def without_timestamps(files: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {path: [{k: v for k, v in record.items() if k != "timestamp"} for record in records]
            for path, records in files.items()}


def assert_equals_reference(site: Site, output: Path) -> None:
    files = cli_process.load_files(output)  # every file parses: none is half-written
    assert not list(output.rglob("*.partial")), "a temporary file was left behind"
    assert sorted(files) == sorted(site.reference)
    assert without_timestamps(files) == without_timestamps(site.reference)
    urls = [record["url"] for records in files.values() for record in records]
    assert len(urls) == len(set(urls)) == PAGES * IMAGES_PER_PAGE, "a record is missing or duplicated"
    assert all(record["status"] == "ok" for records in files.values() for record in records)


def wait_for_requests(site: Site, running: cli_process.Running, count: int) -> None:
    """Until the server has seen ``count`` requests more, or the run ends."""
    target = len(site.server.requests) + count
    while len(site.server.requests) < target and running.process.poll() is None:
        time.sleep(0.002)


def paths_requested(site: Site, since: int) -> set[str]:
    return {request.path for request in site.server.requests[since:]}


def test_reference_run_fetched_each_page_and_image_once(site: Site) -> None:
    assert len(site.reference) == PAGES
    assert all(len(records) == IMAGES_PER_PAGE for records in site.reference.values())
    first_run = [request.path for request in site.server.requests[:REQUESTS]]
    assert len(set(first_run)) == REQUESTS


def test_killed_several_times_then_resumed_equals_an_uninterrupted_run(site: Site) -> None:
    chance = random.Random(4)
    output = site.workdir / "killed"
    finished_before: set[str] = set()
    kills = 0
    for _ in range(4):
        since = len(site.server.requests)
        running = site.run("killed")
        wait_for_requests(site, running, chance.randrange(5, 60))
        time.sleep(chance.uniform(0, 0.05))  # not always right after a request
        running.process.send_signal(signal.SIGKILL)
        result = cli_process.finish(running)
        kills += result.returncode == -signal.SIGKILL
        cli_process.load_files(output)  # every file left is complete JSON
        requested = paths_requested(site, since)
        for page in finished_before:
            assert page.removeprefix(site.server.url("")) not in requested, f"{page} was fetched again"
            assert not site.images_of(page) & requested, f"an image of {page} was fetched again"
        finished_before = site.finished(output)
    assert kills >= 3, "the crawl finished before it could be killed: slow the server down"
    assert 0 < len(finished_before) < PAGES

    since = len(site.server.requests)
    result = cli_process.finish(site.run("killed"))
    assert result.returncode == 0, result.stderr
    assert f"{PAGES - len(finished_before)} done now, {len(finished_before)} done before" in result.stderr
    requested = paths_requested(site, since)
    page_paths = {page: page.removeprefix(site.server.url("")) for page in site.pages}
    assert not {page_paths[page] for page in finished_before} & requested
    assert {page_paths[page] for page in set(site.pages) - finished_before} <= requested
    assert_equals_reference(site, output)


@pytest.mark.parametrize("processes", [1, 2])
def test_ctrl_c_keeps_finished_files_prints_the_summary_and_exits_130(site: Site, processes: int) -> None:
    name = f"interrupted-{processes}"
    output = site.workdir / name
    running = site.run(name, "--processes", str(processes))
    workers = wait_for_workers(running, processes) if processes > 1 else []
    wait_for_requests(site, running, REQUESTS // 3)
    for pid in [running.process.pid, *workers]:  # as a terminal does: Ctrl-C reaches the whole process group
        os.kill(pid, signal.SIGINT)
    result = cli_process.finish(running, timeout=30)
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert "interrupted: rerun the same command to resume" in result.stderr
    assert "listed URLs" in result.stderr and "fingerprinted" in result.stderr
    files = cli_process.load_files(output)
    assert not list(output.rglob("*.partial"))
    assert 0 < len(files) < PAGES
    for path, records in files.items():
        assert without_timestamps({path: records}) == without_timestamps({path: site.reference[path]})

    since = len(site.server.requests)
    rerun = cli_process.finish(site.run(name, "--processes", str(processes)))
    assert rerun.returncode == 0, rerun.stderr
    assert f"{PAGES - len(files)} done now, {len(files)} done before" in rerun.stderr
    assert len(site.server.requests) - since == (PAGES - len(files)) * (1 + IMAGES_PER_PAGE)
    assert_equals_reference(site, output)


def proc_stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent, ...); None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        fields = proc_stat(entry.name)
        if fields is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    fields = proc_stat(pid)
    return fields is not None and fields[0] != "Z"


def wait_for_workers(running: cli_process.Running, count: int) -> list[int]:
    deadline = time.monotonic() + 10
    while len(workers := children(running.process.pid)) < count:
        assert time.monotonic() < deadline, f"{count} worker processes did not start"
        time.sleep(0.01)
    return workers


def test_two_processes_write_what_one_writes_and_keep_the_limits_in_total(site: Site) -> None:
    since = len(site.server.requests)
    site.server.peak_in_flight = 0
    result = cli_process.finish(site.run("two-processes", "--processes", "2"))
    assert result.returncode == 0, result.stderr
    assert re.search(r"processes\s+2\b", result.stderr)
    assert_equals_reference(site, site.workdir / "two-processes")
    requested = [request.path for request in site.server.requests[since:]]
    assert len(requested) == len(set(requested)) == REQUESTS, "a URL was fetched twice or not at all"
    # --concurrency 4 --per-host 4: two workers of 2 each, never 4 each
    assert site.server.peak_in_flight <= 4


def test_killing_the_parent_stops_its_workers_and_a_rerun_completes(site: Site) -> None:
    running = site.run("parent-killed", "--processes", "2")
    workers = wait_for_workers(running, 2)
    wait_for_requests(site, running, 60)
    running.process.send_signal(signal.SIGKILL)
    cli_process.finish(running)
    deadline = time.monotonic() + 5
    while any(alive(worker) for worker in workers):
        assert time.monotonic() < deadline, "orphaned workers went on crawling"
        time.sleep(0.02)
    output = site.workdir / "parent-killed"
    finished = len(cli_process.load_files(output))
    assert finished < PAGES
    rerun = cli_process.finish(site.run("parent-killed", "--processes", "2"))
    assert rerun.returncode == 0, rerun.stderr
    assert f"{PAGES - finished} done now, {finished} done before" in rerun.stderr
    assert_equals_reference(site, output)


def test_a_worker_that_dies_is_reported_with_exit_1_and_a_rerun_completes(site: Site) -> None:
    running = site.run("worker-killed", "--processes", "2")
    workers = wait_for_workers(running, 2)
    wait_for_requests(site, running, 60)
    os.kill(workers[0], signal.SIGKILL)
    result = cli_process.finish(running)
    assert result.returncode == 1, result.stderr
    assert "crawler-worker-" in result.stderr and "exit code -9" in result.stderr
    assert "rerun to resume" in result.stderr and "listed URLs" in result.stderr
    output = site.workdir / "worker-killed"
    finished = len(cli_process.load_files(output))
    assert finished < PAGES
    rerun = cli_process.finish(site.run("worker-killed", "--processes", "2"))
    assert rerun.returncode == 0, rerun.stderr
    assert_equals_reference(site, output)


WRITER = """
import sys
from pathlib import Path
from crawler.models import ImageRecord
from crawler.store.files import Store
records = [ImageRecord(url=f"http://a.test/{i}.jpg", status="ok", exif={"k": "v" * 200}) for i in range(3000)]
store = Store(Path(sys.argv[1]))
print("ready", flush=True)
while True:
    store.write("http://a.test/page", records)
"""


def test_a_write_killed_at_any_moment_leaves_a_complete_file_or_none(tmp_path: Path) -> None:
    """A store rewriting a 1.5 MB file in a loop, killed ten times at random moments."""
    chance = random.Random(7)
    store = Store(tmp_path / "out")
    for _ in range(10):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store.root)], stdout=subprocess.PIPE, env=cli_process.child_env()
        )
        assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
        time.sleep(chance.uniform(0, 0.2))
        writer.kill()
        writer.wait()
        writer.stdout.close()
        path = store.path_for("http://a.test/page")
        if path.exists():
            assert len(json.loads(path.read_text())) == 3000
    assert path.exists(), "not one write finished in ten tries"
    store.remove_partial_files()
    assert [p.name for p in path.parent.iterdir()] == [path.name]
