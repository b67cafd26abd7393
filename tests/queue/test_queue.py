"""The work queue end to end: the real CLI (crawl --queue, worker, status) against a real PostgreSQL.

Listed pages on three hosts embed images on two other hosts
(:mod:`tests.support.queue_site`); every host is a server that records its
peak of requests in flight.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import cli_process
from tests.support.queue_site import QueueSite, index_records, start_site, start_worker, status, write_list

PER_HOST = 2


@pytest.fixture
def site() -> Iterator[QueueSite]:
    site = start_site(pages_per_host=6, images_per_page=2, delay=0.1)
    yield site
    site.stop()


def enqueue(workdir: Path, queue: str, urls_file: Path, *extra: str) -> str:
    done = cli_process.run(workdir, "crawl", str(urls_file), "--queue", queue, "--per-host", str(PER_HOST),
                           "--max-rounds", "0", "--batch-size", "2", *extra, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_three_workers_crawl_everything_once_and_no_host_sees_more_than_per_host(
        site: QueueSite, postgres: object, tmp_path: Path) -> None:
    queue = postgres.database()  # type: ignore[attr-defined]
    run = enqueue(tmp_path, queue, write_list(tmp_path, site.urls))
    assert all(server.requests == [] for server in site.servers), "queuing fetched something"
    # one batch at a time each: the three listing hosts' batches run in three workers at once
    workers = [start_worker(tmp_path / f"w{i}", queue, "--until-done", "--jobs", "1") for i in range(3)]
    finished = [cli_process.finish(worker, timeout=120) for worker in workers]
    assert [f.returncode for f in finished] == [0, 0, 0], [f.stderr for f in finished]
    for server in site.servers:
        assert server.peak_in_flight <= PER_HOST, f"{server.host} had {server.peak_in_flight} requests at once"
    # the workers crawled side by side (a late starter may find the work gone), and the image hosts' slots were used
    crawled = [f for f in finished if re.search(r"listed URLs\s+[1-9]", f.stderr)]
    assert len(crawled) >= 2, [f.stderr for f in finished]
    assert max(server.peak_in_flight for server in site.image_hosts) == PER_HOST
    rows = index_records(queue)
    assert sorted(rows) == sorted(site.expected_records())
    shown = status(tmp_path, queue, "--run", run)
    assert shown["urls"] == {"queued": 0, "running": 0, "done": len(site.urls), "failed": 0}
    assert shown["summary"]["fingerprinted"] == len(rows)
    assert shown["summary"]["pages"] == len(site.urls)


def test_queuing_the_same_list_twice_crawls_it_once(site: QueueSite, postgres: object, tmp_path: Path) -> None:
    queue = postgres.database()  # type: ignore[attr-defined]
    urls_file = write_list(tmp_path, site.urls)
    run = enqueue(tmp_path, queue, urls_file)
    again = cli_process.run(tmp_path, "crawl", str(urls_file), "--queue", queue, "--run", run, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "queued 0 listed URL(s) in 0 batch(es)" in again.stderr
    files = tmp_path / "files"
    worker = cli_process.finish(start_worker(tmp_path / "w", queue, "--until-done", "--files", "-o", str(files)),
                                timeout=120)
    assert worker.returncode == 0, worker.stderr
    # --files: today's JSON files too, one per listed URL, holding the same records as the index
    written = cli_process.load_files(files)
    assert len(written) == len(site.urls)
    assert sorted((r["url"], r["page_url"]) for records in written.values() for r in records) == sorted(index_records(queue))
    pages = [request.path for server in site.pages for request in server.requests]
    assert sorted(pages) == sorted(set(pages)) and len(pages) == len(site.urls)
    shown = status(tmp_path, queue, "--run", run, "--hosts")
    assert shown["urls"]["done"] == len(site.urls)
    assert set(shown["hosts"]) == {server.host for server in site.pages}
    assert all(host["urls"]["done"] == 6 for host in shown["hosts"].values())


def test_onion_batches_go_only_to_workers_that_take_them(postgres: object, tmp_path: Path) -> None:
    queue = postgres.database()  # type: ignore[attr-defined]
    server_urls = ["http://127.0.0.1:9/a.jpg", "http://exampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion/"]
    run = enqueue(tmp_path, queue, write_list(tmp_path, server_urls))
    clearnet = cli_process.finish(start_worker(tmp_path / "clear", queue, "--no-onion", "--until-done"), timeout=60)
    assert clearnet.returncode == 0, clearnet.stderr
    assert status(tmp_path, queue, "--run", run)["urls"] == {"queued": 1, "running": 0, "done": 1, "failed": 0}
    # a "Tor" that is not there: the onion batch is taken, and its URL gets an error record naming the proxy
    onion = cli_process.finish(start_worker(tmp_path / "onion", queue, "--only", "onion", "--until-done",
                                            "--tor-proxy", "127.0.0.1:9"), timeout=60)
    assert onion.returncode == 0, onion.stderr
    shown = status(tmp_path, queue, "--run", run)
    assert shown["urls"]["done"] == 2
    assert shown["summary"]["errors"].get("proxy") == 1


def test_a_bad_queue_url_is_named_by_its_flag(tmp_path: Path) -> None:
    done = cli_process.run(tmp_path, "worker", "--queue", "mysql://x/y", timeout=30)
    assert done.returncode == 2
    assert "--queue" in done.stderr and "postgresql://" in done.stderr


def test_a_local_crawl_needs_no_database(tmp_path: Path) -> None:
    """--run belongs to the queue; without --queue the crawl is the local one."""
    urls_file = write_list(tmp_path, ["http://127.0.0.1:9/a.jpg"])
    done = cli_process.run(tmp_path, "crawl", str(urls_file), "--run", "x", timeout=30)
    assert done.returncode == 2 and "--run" in done.stderr


def test_without_the_fleets_slots_the_image_hosts_see_more_than_per_host(site: QueueSite, tmp_path: Path) -> None:
    """The control of the first test: three local crawls, each polite on its own, together are not."""
    crawls = []
    for server in site.pages:
        folder = tmp_path / server.host
        folder.mkdir()
        urls_file = write_list(folder, [url for url in site.urls if f"//{server.host}:" in url])
        crawls.append(cli_process.start(folder, "crawl", str(urls_file), "--per-host", str(PER_HOST), "--max-rounds", "0",
                                        "--no-index", "--no-progress"))
    assert all(cli_process.finish(crawl, timeout=120).returncode == 0 for crawl in crawls)
    assert max(server.peak_in_flight for server in site.image_hosts) > PER_HOST
