"""Nothing lost, nothing twice: a worker killed mid-batch, a database restarted mid-run.

Real worker processes, a real PostgreSQL (the restart test starts one of its
own, so that restarting it disturbs no other test), the queue site of
:mod:`tests.support.queue_site`.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support import cli_process
from tests.support.postgres_server import Postgres
from tests.support.queue_site import QueueSite, index_records, start_site, start_worker, status, write_list

LEASE = "2"


@pytest.fixture
def site() -> Iterator[QueueSite]:
    site = start_site(pages_per_host=6, images_per_page=2, delay=0.2)
    yield site
    site.stop()


@pytest.fixture
def own_postgres() -> Iterator[Postgres]:
    server = Postgres()
    yield server
    server.stop()


def enqueue(workdir: Path, queue: str, urls: list[str]) -> str:
    done = cli_process.run(workdir, "crawl", str(write_list(workdir, urls)), "--queue", queue, "--per-host", "2",
                           "--max-rounds", "0", "--batch-size", "2", timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def wait_until(condition: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def jobs_in(queue: str, state: str) -> int:
    with psycopg.connect(queue) as conn:
        row = conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = %s", (state,)).fetchone()
    return int(row[0]) if row else 0


def assert_complete(site: QueueSite, workdir: Path, queue: str, run: str) -> None:
    rows = index_records(queue)
    assert sorted(rows) == sorted(site.expected_records()), "a record is missing or twice in the index"
    shown = status(workdir, queue, "--run", run)
    assert shown["urls"] == {"queued": 0, "running": 0, "done": len(site.urls), "failed": 0}
    assert shown["summary"]["fingerprinted"] == len(rows), "a batch done twice was counted twice"


def test_a_worker_killed_mid_batch_has_its_work_taken_over(site: QueueSite, postgres: object, tmp_path: Path) -> None:
    queue = postgres.database()  # type: ignore[attr-defined]
    run = enqueue(tmp_path, queue, site.urls)
    doomed = start_worker(tmp_path / "doomed", queue, "--lease", LEASE)
    wait_until(lambda: sum(len(server.requests) for server in site.image_hosts) >= 4, "the first worker's requests")
    doomed.process.send_signal(signal.SIGKILL)
    cli_process.finish(doomed)
    assert jobs_in(queue, "doing") >= 1, "the killed worker held no batch"
    killed = time.monotonic()
    heir = cli_process.finish(start_worker(tmp_path / "heir", queue, "--lease", LEASE, "--until-done"), timeout=120)
    assert heir.returncode == 0, heir.stderr
    assert "handed back to the queue" in heir.stderr
    assert time.monotonic() - killed < 60
    assert_complete(site, tmp_path, queue, run)


def test_a_database_restart_makes_workers_wait_and_go_on(site: QueueSite, own_postgres: Postgres, tmp_path: Path) -> None:
    queue = own_postgres.database()
    run = enqueue(tmp_path, queue, site.urls)
    workers = [start_worker(tmp_path / f"w{i}", queue, "--lease", "3", "--until-done") for i in range(2)]
    wait_until(lambda: jobs_in(queue, "succeeded") >= 2, "the first batches")
    own_postgres.restart(down_seconds=2)
    assert jobs_in(queue, "todo") + jobs_in(queue, "doing") > 0, "the run ended before the restart"
    finished = [cli_process.finish(worker, timeout=180) for worker in workers]
    assert [f.returncode for f in finished] == [0, 0], [f.stderr[-3000:] for f in finished]
    assert any("reconnecting" in f.stderr or "waiting for it" in f.stderr for f in finished)
    assert_complete(site, tmp_path, queue, run)
