"""Benchmark: the crawler against the naive approach and full downloads.

Everything runs on this machine, in one run, against the same server:
nginx on loopback serves a generated site (pages of 20 images; sizes spread
log-uniformly from 20 KB to 5 MB, real camera JPEG headers, the rest sparse),
behind a proxy that adds a fixed round-trip time (``delay_proxy.py``). Arms:

1. the naive baseline (``naive.py``): thread pool, HEAD then Range GET per
   image, a new connection per request;
2. bare httpx (``bare_httpx.py``): the crawler's image requests with no
   parsing at all, in one process and in one per core: what this rig allows
   an httpx client;
3. ``crawler crawl`` on the page list, prefix only (``--max-rounds 0``), in
   one process and in one per core (``--processes``), and with its default
   adaptive ranges (follow-up requests for EXIF and image data past the
   prefix); a tenth of the pages, for memory growth;
4. full downloads of a sample of the same images (``naive.py --full``).

Bytes on the wire come from nginx's access log (request length + bytes sent),
CPU seconds and peak memory from each arm's rusage (children included; peak
memory is the largest process's). Rates are given over the wall clock
(Python start-up included, ~0.4 s) and over the time requests were in flight
(from the server's log: first arrival to last answer, plus two round trips
for the first connection and request). Figures are reported as ratios to the
baseline measured in the same run, since the machine is shared.

With ``--baseline PATH`` (another checkout, e.g. a ``git worktree`` of an older
commit), that checkout's crawler runs the three crawler arms too, in the same run
against the same server, and the report gives this checkout's figures over it.

With ``--index-overhead``, only the crawler runs, in one process, prefix
only, with and without its fingerprint index (``--no-index``), alternating,
``--repeats`` times each: the index's share of the crawl's CPU per image.

Usage: ``python bench/bench.py [--images 5000] [--rtt-ms 50] [--concurrency 64] [--baseline PATH]
[--index-overhead]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import result_files  # noqa: E402  (beside this script)
from tests.support.servers import Nginx, free_port, wait_for_port  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "jpeg"
IMAGES_PER_PAGE = 20
HEAD_BYTES = 16384  # real bytes written per image; the rest of the file is sparse


@dataclass
class Arm:
    name: str
    images: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    requests: int
    wire_bytes: int  # request bytes + response bytes, all requests of the arm
    image_wire_bytes: int  # the same, image requests only
    in_flight_seconds: float  # first request's arrival to last answer (server clock), plus two round trips

    @property
    def images_per_second(self) -> float:
        return self.images / self.wall_seconds

    @property
    def images_per_second_in_flight(self) -> float:
        return self.images / self.in_flight_seconds

    @property
    def wire_bytes_per_image(self) -> float:
        return self.image_wire_bytes / self.images

    @property
    def cpu_ms_per_image(self) -> float:
        return 1000 * self.cpu_seconds / self.images


def make_site(root: Path, images: int, seed: int = 7) -> list[str]:
    """Write pages and sparse images under ``root``; returns image paths."""
    rng = random.Random(seed)
    templates = [p.read_bytes()[:HEAD_BYTES] for p in sorted(CORPUS.glob("*.jpg")) if p.stat().st_size > HEAD_BYTES]
    (root / "img").mkdir(parents=True)
    paths = []
    for i in range(images):
        size = int(math.exp(rng.uniform(math.log(20_480), math.log(5_000_000))))
        path = f"/img/{i}.jpg"
        with open(root / path.lstrip("/"), "wb") as handle:
            handle.write(templates[i % len(templates)][:size])
            handle.truncate(size)
        paths.append(path)
    for page in range(math.ceil(images / IMAGES_PER_PAGE)):
        chunk = paths[page * IMAGES_PER_PAGE : (page + 1) * IMAGES_PER_PAGE]
        body = "".join(f'<img src="{p}">' for p in chunk)
        (root / f"page{page}.html").write_text(f"<!doctype html><html><body>{body}</body></html>")
    return paths


def run_arm(name: str, command: list[str], images: int, nginx: Nginx, rtt: float, repo: Path = REPO) -> Arm:
    """Run one arm as a child process (its crawler from ``repo``); measure wall, CPU, memory, log bytes and times."""
    before = len(nginx.access_log())
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(repo)}
    process = subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{name} failed: {process.stderr.read().decode() if process.stderr else ''}")
    lines = [line.split() for line in nginx.access_log()[before:]]
    wire = [(fields[1], int(fields[3]) + int(fields[6])) for fields in lines]
    answered = [float(fields[8]) for fields in lines]  # $msec: when the answer was sent
    arrived = [float(fields[8]) - float(fields[9]) for fields in lines]  # minus $request_time
    return Arm(
        name=name,
        images=images,
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        requests=len(lines),
        wire_bytes=sum(size for _, size in wire),
        image_wire_bytes=sum(size for uri, size in wire if uri.startswith("/img/")),
        in_flight_seconds=max(answered) - min(arrived) + 2 * rtt,
    )


def url_file(path: Path, urls: list[str]) -> Path:
    """Write ``urls``, one a line, to ``path``; the list an arm reads."""
    path.write_text("\n".join(urls) + "\n")
    return path


def crawler_command(work: Path, pages: list[str], concurrency: int, tag: str, processes: int, *extra: str) -> list[str]:
    urls = url_file(work / f"urls-{tag}.txt", pages)
    settings = work / "settings.toml"
    settings.write_text(
        f"[limits]\nconcurrency = {concurrency}\nper_host = {concurrency}\n"
        f"[output]\ndir = \"{work / ('out-' + tag)}\"\n"
    )
    return [sys.executable, "-m", "crawler", "--settings", str(settings), "crawl", str(urls), "--no-progress",
            "--processes", str(processes), *extra]


def naive_command(work: Path, urls: list[str], threads: int, tag: str, full: bool = False) -> list[str]:
    path = url_file(work / f"images-{tag}.txt", urls)
    return [sys.executable, str(REPO / "bench" / "naive.py"), str(path), str(threads)] + (["--full"] if full else [])


def bare_command(work: Path, urls: list[str], concurrency: int, processes: int) -> list[str]:
    path = url_file(work / "images-bare.txt", urls)
    return [sys.executable, str(REPO / "bench" / "bare_httpx.py"), str(path), str(concurrency), str(processes)]


def index_overhead(args: argparse.Namespace, work: Path) -> dict[str, object]:
    """CPU per image of the crawl with its index over without, arms alternating against one server."""
    make_site(work / "site", args.images)
    nginx = Nginx(work / "site", work / "nginx")
    try:
        pages = [nginx.url(f"/page{i}.html") for i in range(math.ceil(args.images / IMAGES_PER_PAGE))]
        arms: dict[str, list[Arm]] = {"indexed": [], "no_index": []}
        for repeat in range(args.repeats):
            for name, extra in (("indexed", ()), ("no_index", ("--no-index",))):
                command = crawler_command(work, pages, args.concurrency, f"{name}{repeat}", 1, "--max-rounds", "0", *extra)
                arms[name].append(run_arm(name, command, args.images, nginx, 0.0))
    finally:
        nginx.stop()
    cpu = {name: [arm.cpu_ms_per_image for arm in runs] for name, runs in arms.items()}
    best = {name: min(values) for name, values in cpu.items()}
    return {"images": args.images, "repeats": args.repeats, "cpu_ms_per_image": cpu,
            "overhead_of_best": best["indexed"] / best["no_index"] - 1}


def measure(args: argparse.Namespace, work: Path) -> dict[str, object]:
    paths = make_site(work / "site", args.images)
    nginx = Nginx(work / "site", work / "nginx")
    proxy_port = free_port()
    proxy = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "delay_proxy.py"), str(proxy_port), str(nginx.port), str(args.rtt_ms)]
    )
    try:
        wait_for_port(proxy_port)
        base = f"http://127.0.0.1:{proxy_port}"
        pages = [f"{base}/page{i}.html" for i in range(math.ceil(args.images / IMAGES_PER_PAGE))]
        images = [base + p for p in paths]
        small = max(1, len(pages) // 10)
        cores = os.cpu_count() or 1
        rtt = args.rtt_ms / 1000
        conc = args.concurrency
        prefix_only = ("--max-rounds", "0")
        arms = [
            run_arm("naive", naive_command(work, images, conc, "naive"), len(images), nginx, rtt),
            run_arm("bare_httpx", bare_command(work, images, conc, 1), len(images), nginx, rtt),
            run_arm(f"bare_httpx_{cores}p", bare_command(work, images, conc, cores), len(images), nginx, rtt),
            run_arm("crawler", crawler_command(work, pages, conc, "one", 1, *prefix_only), len(images), nginx, rtt),
            run_arm(f"crawler_{cores}p", crawler_command(work, pages, conc, "cores", cores, *prefix_only),
                    len(images), nginx, rtt),
            run_arm(f"crawler_adaptive_{cores}p", crawler_command(work, pages, conc, "adaptive", cores),
                    len(images), nginx, rtt),
            run_arm("crawler_tenth", crawler_command(work, pages[:small], conc, "tenth", 1, *prefix_only),
                    min(len(images), small * IMAGES_PER_PAGE), nginx, rtt),
            run_arm("full", naive_command(work, images[: args.full_sample], conc, "full", full=True),
                    min(args.full_sample, len(images)), nginx, rtt),
        ]
        if args.baseline:
            arms += [
                run_arm("baseline_crawler", crawler_command(work, pages, conc, "b-one", 1, *prefix_only),
                        len(images), nginx, rtt, args.baseline),
                run_arm(f"baseline_crawler_{cores}p", crawler_command(work, pages, conc, "b-cores", cores, *prefix_only),
                        len(images), nginx, rtt, args.baseline),
                run_arm(f"baseline_crawler_adaptive_{cores}p", crawler_command(work, pages, conc, "b-adaptive", cores),
                        len(images), nginx, rtt, args.baseline),
            ]
    finally:
        proxy.terminate()
        proxy.wait()
        nginx.stop()
    return summarize(args, arms)


def summarize(args: argparse.Namespace, arms: list[Arm]) -> dict[str, object]:
    by_name = {arm.name: arm for arm in arms}
    cores = os.cpu_count() or 1
    naive, crawler, tenth = by_name["naive"], by_name["crawler"], by_name["crawler_tenth"]
    best, bare = by_name[f"crawler_{cores}p"], by_name[f"bare_httpx_{cores}p"]
    bound = args.concurrency / (args.rtt_ms / 1000)
    one_request = crawler.image_wire_bytes / crawler.images  # measured prefix + headers of one request
    return {
        "settings": {"images": args.images, "rtt_ms": args.rtt_ms, "concurrency": args.concurrency,
                     "full_sample": args.full_sample, "cores": cores},
        "arms": [{**asdict(arm), "images_per_second": arm.images_per_second,
                  "images_per_second_in_flight": arm.images_per_second_in_flight,
                  "share_of_bound": arm.images_per_second / bound,
                  "share_of_bound_in_flight": arm.images_per_second_in_flight / bound,
                  "wire_bytes_per_image": arm.wire_bytes_per_image, "cpu_ms_per_image": arm.cpu_ms_per_image}
                 for arm in arms],
        "ratios_to_naive": {arm.name: ratios(arm, naive) for arm in arms},
        "latency_bound_images_per_second": bound,
        "reachable_share_with_pages": crawler.images / crawler.requests,  # page requests take slots too
        "crawler_share_of_bound": best.images_per_second / bound,
        "crawler_share_of_bound_in_flight": best.images_per_second_in_flight / bound,
        "crawler_share_of_bare_httpx_in_flight": best.images_per_second_in_flight / bare.images_per_second_in_flight,
        "crawler_wire_bytes_per_image_over_prefix": crawler.wire_bytes / crawler.images / one_request,
        "memory_growth_tenfold_images": crawler.peak_rss_mb / tenth.peak_rss_mb,
        "over_baseline_checkout": {
            arm.name: ratios(arm, before) for arm in arms if (before := by_name.get(f"baseline_{arm.name}")) is not None
        },
    }


def ratios(arm: Arm, reference: Arm) -> dict[str, float]:
    """``arm``'s figures over ``reference``'s, measured in the same run."""
    return {
        "images_per_second": arm.images_per_second / reference.images_per_second,
        "wire_bytes_per_image": arm.wire_bytes_per_image / reference.wire_bytes_per_image,
        "cpu_ms_per_image": arm.cpu_ms_per_image / reference.cpu_ms_per_image,
        "peak_rss": arm.peak_rss_mb / reference.peak_rss_mb,
    }


def ratio_table(title: str, rows: dict[str, dict[str, float]]) -> list[str]:
    lines = ["", title, "", "| arm | images/s | wire bytes/image | CPU/image | peak RSS |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, ratio in rows.items():
        lines.append(f"| {name} | {ratio['images_per_second']:.2f} | {ratio['wire_bytes_per_image']:.3f} "
                     f"| {ratio['cpu_ms_per_image']:.2f} | {ratio['peak_rss']:.2f} |")
    return lines


def markdown(result: dict[str, Any]) -> str:
    settings, arms, ratios_to_naive = result["settings"], result["arms"], result["ratios_to_naive"]
    cores = settings["cores"]
    lines = [
        "# Benchmark result", "",
        f"{settings['images']} images on {settings['images'] // IMAGES_PER_PAGE} pages, "
        f"round trip {settings['rtt_ms']} ms, concurrency {settings['concurrency']}, "
        f"{cores} cores; full downloads on {settings['full_sample']} of the images. "
        f"`_{cores}p`: in {cores} processes. Rates over the wall clock include Python's start-up; "
        "rates in flight run from the first request to the last answer.", "",
        "| arm | images | images/s | of bound | images/s in flight | of bound | wire bytes/image "
        "| CPU ms/image | peak RSS MB | requests |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for arm in arms:
        lines.append(
            f"| {arm['name']} | {arm['images']} | {arm['images_per_second']:.0f} | {100 * arm['share_of_bound']:.0f}% "
            f"| {arm['images_per_second_in_flight']:.0f} | {100 * arm['share_of_bound_in_flight']:.0f}% "
            f"| {arm['wire_bytes_per_image']:.0f} | {arm['cpu_ms_per_image']:.2f} | {arm['peak_rss_mb']:.0f} "
            f"| {arm['requests']} |"
        )
    lines += ratio_table("Ratios to the naive baseline (same run):", ratios_to_naive)
    if result["over_baseline_checkout"]:
        lines += ratio_table("This checkout over the baseline checkout's crawler (`--baseline`, same run):",
                             result["over_baseline_checkout"])
    lines += [
        "",
        f"- latency bound (concurrency / RTT): {result['latency_bound_images_per_second']:.0f} images/s; the "
        f"crawler's page requests take slots too, so it can reach at most "
        f"{100 * result['reachable_share_with_pages']:.1f}% of it in images",
        f"- crawler in {cores} processes: {100 * result['crawler_share_of_bound']:.0f}% of the bound over the wall "
        f"clock, {100 * result['crawler_share_of_bound_in_flight']:.0f}% in flight; "
        f"{100 * result['crawler_share_of_bare_httpx_in_flight']:.0f}% of bare httpx in as many processes",
        f"- crawler wire bytes per image, pages included, over one prefix request's bytes: "
        f"{result['crawler_wire_bytes_per_image_over_prefix']:.3f}",
        f"- crawler peak memory, 10x images over 1x: {result['memory_growth_tenfold_images']:.2f}",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = result_files.parser(__doc__, "benchmark")
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--rtt-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--full-sample", type=int, default=300)
    parser.add_argument("--index-overhead", action="store_true", help="only the index's CPU overhead")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", type=Path,
                        help="another checkout: its crawler arms run too, against the same server, for before/after")
    args = parser.parse_args()
    if args.index_overhead:
        with tempfile.TemporaryDirectory(prefix="crawler-bench-") as work:
            overhead = index_overhead(args, Path(work))
        print(json.dumps(overhead, indent=2))
        args.out.with_name("index-overhead.json").write_text(json.dumps(overhead, indent=2) + "\n")
        return
    with tempfile.TemporaryDirectory(prefix="crawler-bench-") as work:
        result = measure(args, Path(work))
    result_files.write(args.out, result, markdown)


if __name__ == "__main__":
    main()
