"""A site for the queue tests: listed pages on several hosts whose images live on other, shared hosts.

Hosts are loopback addresses (the crawler's per-host limit counts host
names, not ports): pages on ``127.0.0.1``, ``127.0.0.4`` and ``127.0.0.5``,
each embedding images on ``127.0.0.2`` and ``127.0.0.3``. Each host is a
:class:`FaultyServer` that records its peak of requests in flight, so a test
sees what a host went through whatever the number of workers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.support import cli_process
from tests.support.corpora import images
from tests.support.faulty_server import FaultyServer, html, static

PAGE_HOSTS = ("127.0.0.1", "127.0.0.4", "127.0.0.5")
IMAGE_HOSTS = ("127.0.0.2", "127.0.0.3")


@dataclass
class QueueSite:
    pages: list[FaultyServer]
    image_hosts: list[FaultyServer]
    urls: list[str]
    images_per_page: int

    @property
    def servers(self) -> list[FaultyServer]:
        return [*self.pages, *self.image_hosts]

    def expected_records(self) -> set[tuple[str, str]]:
        """(image URL, page URL) of every record the crawl must give."""
        return {(image, page) for page in self.urls for image in self.images_on(page)}

    def images_on(self, page: str) -> list[str]:
        name = page.rstrip("/").rsplit("/", 1)[-1]
        return [server.url(f"/img/{name}-{k}.jpg") for server in self.image_hosts for k in range(self.images_per_page)]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_site(pages_per_host: int, images_per_page: int, delay: float) -> QueueSite:
    """Pages answer at once; every image request takes ``delay`` seconds, so requests overlap."""
    jpeg = images("jpeg")[0].read_bytes()
    page_servers = [FaultyServer(host=host) for host in PAGE_HOSTS]
    image_servers = [FaultyServer(host=host, delay=delay) for host in IMAGE_HOSTS]
    site = QueueSite(page_servers, image_servers, [], images_per_page)
    for server in image_servers:
        server.route("/img/", static(jpeg))
    for server in page_servers:
        for index in range(pages_per_host):
            url = server.url(f"/page/{server.host}-{index}")
            tags = "".join(f'<img src="{image}">' for image in site.images_on(url))
            server.route(f"/page/{server.host}-{index}", html(f"<html><body>{tags}</body></html>".encode()))
            site.urls.append(url)
    return site


def write_list(workdir: Path, urls: list[str]) -> Path:
    path = workdir / "urls.txt"
    path.write_text("".join(f"{url}\n" for url in urls))
    return path


def status(workdir: Path, queue: str, *extra: str) -> dict[str, Any]:
    done = cli_process.run(workdir, "status", "--queue", queue, "--format", "json", *extra, timeout=60)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def index_records(queue: str) -> list[tuple[str, str]]:
    """Every (url, page_url) row of the index in the queue's database, duplicates kept."""
    with psycopg.connect(queue) as conn:
        return [(str(url), str(page)) for url, page in conn.execute("SELECT url, page_url FROM images").fetchall()]


def start_worker(workdir: Path, queue: str, *extra: str) -> cli_process.Running:
    """A worker in a folder of its own (its cli.stdout and cli.stderr are its own)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return cli_process.start(workdir, "worker", "--queue", queue, "--no-progress", *extra)
