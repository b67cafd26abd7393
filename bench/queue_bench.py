"""Benchmark: crawling through the PostgreSQL work queue with 1, 2 and 4 worker processes.

The rig of ``bench/bench.py`` (its generated site under nginx, pages of 20
images, behind ``bench/delay_proxy.py`` for a fixed round-trip time), here
served on ``--hosts`` loopback addresses so that the crawl sees that many
hosts (a batch is one host's pages, and one batch of a host runs at a time).
Arms, all prefix only (``--max-rounds 0``) with the same limits:

- ``local``: ``crawler crawl`` in one process, and with ``--processes 2``:
  the baseline, measured in the same run;
- ``queue_N``: ``crawler crawl --queue`` (timed apart: queuing), then N
  ``crawler worker --until-done`` processes started together, until all have
  stopped (their start-up and the one-second check for the end included).

Measured: images per second over the wall clock, per-worker efficiency
(rate with N workers over N times the rate with one), the workers' CPU per
image, and the database's CPU (every postgres process, from /proc) per
listed URL and per image, with the batches claimed per second. Apart from
any crawling, ``bench/queue_claims.py`` measures what a claim costs the
database with procrastinate and with pgqueuer.

Usage: ``python bench/queue_bench.py [--images 6000] [--hosts 16] [--rtt-ms 20]``
Results: ``bench/results/queue-bench.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

import queue_claims  # noqa: E402  (this folder is on the path: bench/queue_claims.py)
from bench import IMAGES_PER_PAGE, make_site, url_file  # noqa: E402  (bench/bench.py, the rig of the main benchmark)
from tests.support.postgres_server import Postgres  # noqa: E402
from tests.support.servers import Nginx, free_port, wait_for_port  # noqa: E402

RESULTS = REPO / "bench" / "results"
ENV = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's crawler, whatever is installed


@dataclass
class Arm:
    name: str
    processes: int
    listed: int
    images: int
    wall_seconds: float
    cpu_seconds: float  # the crawler's processes
    db_cpu_seconds: float = 0.0
    batches: int = 0
    enqueue_seconds: float = 0.0

    @property
    def images_per_second(self) -> float:
        return self.images / self.wall_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6000)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--rtt-ms", type=float, default=20.0)
    parser.add_argument("--per-host", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--claims", type=int, default=2000, help="no-op jobs per queue library")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="queue-bench-") as folder:
        result = measure(args, Path(folder))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "queue-bench.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "queue-bench.md").write_text(markdown(result))
    print(markdown(result))


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    make_site(work / "site", args.images)
    nginx = Nginx(work / "site", work / "nginx")
    addresses = [f"127.0.0.{1 + h}" for h in range(args.hosts)]
    port = free_port()
    proxy = subprocess.Popen([sys.executable, str(REPO / "bench" / "delay_proxy.py"), str(port), str(nginx.port),
                              str(args.rtt_ms), ",".join(addresses)])
    cluster = Postgres()
    try:
        wait_for_port(port)
        pages = [f"http://{addresses[i % args.hosts]}:{port}/page{i}.html"
                 for i in range(math.ceil(args.images / IMAGES_PER_PAGE))]
        settings = work / "settings.toml"
        settings.write_text(f"[limits]\nconcurrency = {args.concurrency}\nper_host = {args.per_host}\n"
                            f"[queue]\nbatch_size = {args.batch_size}\n")
        urls = url_file(work / "urls.txt", pages)
        arms = [local(work, settings, urls, len(pages), args.images, processes) for processes in (1, 2)]
        arms += [queued(cluster, work, settings, urls, len(pages), int(n)) for n in args.workers.split(",")]
        claims = [queue_claims.measure(cluster, library, args.claims) for library in queue_claims.LIBRARIES]
    finally:
        cluster.stop()
        proxy.terminate()
        proxy.wait()
        nginx.stop()
    return summarize(args, arms, claims)


def crawler(work: Path, settings: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "crawler", "--settings", str(settings), *args]


def local(work: Path, settings: Path, urls: Path, listed: int, images: int, processes: int) -> Arm:
    command = crawler(work, settings, "crawl", str(urls), "--no-progress", "--max-rounds", "0",
                      "-o", str(work / f"local-{processes}"), "--processes", str(processes))
    start = time.perf_counter()
    cpu = wait_all([spawn(command, work)])
    return Arm(f"local, {processes} process{'es' if processes > 1 else ''}", processes, listed, images,
               time.perf_counter() - start, cpu)


def queued(cluster: Postgres, work: Path, settings: Path, urls: Path, listed: int, workers: int) -> Arm:
    queue = cluster.database()
    start = time.perf_counter()
    enqueue = crawler(work, settings, "crawl", str(urls), "--queue", queue, "--max-rounds", "0")
    subprocess.run(enqueue, cwd=work, check=True, capture_output=True, env=ENV)
    enqueued = time.perf_counter() - start
    db_before = queue_claims.postgres_cpu(cluster)
    start = time.perf_counter()
    command = crawler(work, settings, "worker", "--queue", queue, "--until-done", "--no-progress")
    cpu = wait_all([spawn(command, work) for _ in range(workers)])
    wall = time.perf_counter() - start
    db = queue_claims.postgres_cpu(cluster) - db_before
    with psycopg.connect(queue) as conn:
        images = int(conn.execute("SELECT count(*) FROM images WHERE page_url <> ''").fetchone()[0])  # type: ignore[index]
        batches = int(conn.execute("SELECT count(*) FROM procrastinate_jobs").fetchone()[0])  # type: ignore[index]
    return Arm(f"queue, {workers} worker{'s' if workers > 1 else ''}", workers, listed, images, wall, cpu,
               db, batches, enqueued)


def spawn(command: list[str], work: Path) -> subprocess.Popen[bytes]:
    """Start a crawler process; its standard error goes to a file of the work folder, shown if it fails."""
    with tempfile.NamedTemporaryFile(dir=work, prefix="stderr-", delete=False) as log:
        return subprocess.Popen(command, cwd=work, env=ENV, stdout=subprocess.DEVNULL, stderr=log)


def wait_all(processes: list[subprocess.Popen[bytes]]) -> float:
    """Wait for every process; their CPU seconds (children included)."""
    cpu = 0.0
    for process in processes:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        cpu += usage.ru_utime + usage.ru_stime
    return cpu


def summarize(args: argparse.Namespace, arms: list[Arm], claims: list[dict[str, Any]]) -> dict[str, Any]:
    one = next(arm for arm in arms if arm.name.startswith("queue") and arm.processes == 1)
    rows = []
    for arm in arms:
        row = {**asdict(arm), "images_per_second": arm.images_per_second,
               "cpu_ms_per_image": 1000 * arm.cpu_seconds / arm.images}
        if arm.name.startswith("queue"):
            row.update({
                "per_worker_efficiency": arm.images_per_second / (arm.processes * one.images_per_second),
                "db_cpu_ms_per_listed_url": 1000 * arm.db_cpu_seconds / arm.listed,
                "db_cpu_ms_per_image": 1000 * arm.db_cpu_seconds / arm.images,
                "batches_per_second": arm.batches / arm.wall_seconds,
                "db_cpu_ms_per_batch": 1000 * arm.db_cpu_seconds / arm.batches,
            })
        rows.append(row)
    return {"settings": vars(args), "cores": os.cpu_count(), "arms": rows, "claims": claims}


def markdown(result: dict[str, Any]) -> str:
    s = result["settings"]
    lines = [
        "# The work queue: 1, 2 and 4 workers (bench/queue_bench.py)", "",
        f"{s['images']} images on {s['images'] // IMAGES_PER_PAGE} pages over {s['hosts']} hosts, "
        f"round trip {s['rtt_ms']:g} ms, per_host {s['per_host']}, concurrency {s['concurrency']} per process, "
        f"batches of {s['batch_size']} pages, prefix only; {result['cores']} cores shared with nginx, the proxy "
        "and PostgreSQL. Wall times include each process's start-up.", "",
        "| arm | images/s | per-worker efficiency | crawler CPU ms/image | DB CPU ms/listed URL | DB CPU ms/image "
        "| batches/s | DB CPU ms/batch |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for arm in result["arms"]:
        queue = "per_worker_efficiency" in arm
        cells = [arm["name"], f"{arm['images_per_second']:.0f}",
                 f"{arm['per_worker_efficiency']:.2f}" if queue else "—", f"{arm['cpu_ms_per_image']:.2f}"]
        cells += ([f"{arm['db_cpu_ms_per_listed_url']:.2f}", f"{arm['db_cpu_ms_per_image']:.3f}",
                   f"{arm['batches_per_second']:.1f}", f"{arm['db_cpu_ms_per_batch']:.1f}"] if queue else ["—"] * 4)
        lines.append("| " + " | ".join(cells) + " |")
    queued = [arm for arm in result["arms"] if "enqueue_seconds" in arm and arm["batches"]]
    if queued:
        lines += ["", f"Queuing the list ({queued[0]['listed']} URLs, {queued[0]['batches']} batches): "
                      f"{queued[0]['enqueue_seconds']:.1f} s, start-up included."]
    lines += ["", "## What a claim costs (bench/queue_claims.py: no-op jobs, one worker, 16 at once)", "",
              "| library | jobs | claims/s | DB CPU ms/claim | worker CPU ms/claim |", "| --- | ---: | ---: | ---: | ---: |"]
    for claim in result["claims"]:
        lines.append(f"| {claim['library']} | {claim['jobs']} | {claim['claims_per_second']:.0f} | "
                     f"{claim['db_cpu_ms_per_claim']:.2f} | {claim['worker_cpu_ms_per_claim']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
