"""Benchmark: crawling an onion site through a private Tor network, against the same site direct.

One run, one machine: nginx serves pages of real JPEGs (Stanford Dogs) on
127.0.0.1 and, through ``tests/support/tor_network.py``'s private network of
real ``tor`` processes, behind one onion service per onion arm (so that each
arm pays its own rendezvous, as a crawl meeting a host for the first time
does). Arms, all with ``crawler crawl`` at its default settings unless named:

1. ``direct``: the pages on 127.0.0.1, no Tor;
2. ``onion``: the same pages on an onion host (default onion timeouts,
   ``per_host`` 6, ``concurrency`` 32);
3. ``onion per_host=N`` and ``onion concurrency=N``: one setting changed.

Every onion arm crawls the same onion host, whose rendezvous circuit the
first arm builds (the probes below measure that cost on its own): a network
with a service per run spends more and more CPU on descriptors and circuits,
which would tax the later arms. Arms run in rounds (``--rounds``), interleaved;
the table gives each arm's fastest round (the one the shared machine disturbed
least), with every round's rate beside it. Rates are over the CLI's wall
clock (Python's start-up included); CPU seconds are the CLI's own (rusage of
children) and the ``tor`` processes' (``/proc/PID/stat``) during the arm:
on loopback, Tor's relaying is CPU that competes with the crawler. Then probes
with a raw SOCKS5 client: how long Tor takes to open a stream to an onion
service with new credentials (a new rendezvous circuit) and with credentials
it has a circuit for, and to answer for an unpublished address; these are
the figures the ``timeouts.onion_*`` defaults are checked against.

The network runs on loopback: Tor's hops cost CPU and scheduling here, not the
hundreds of milliseconds of a real network, so the onion/direct ratio is a
floor on what the public network costs, not an estimate of it.

Usage: ``python bench/onion_bench.py [--images 200] [--rounds 2] [--out bench/results/onion-bench]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import result_files  # noqa: E402  (beside this script)
from crawler.settings import load_settings  # noqa: E402
from tests.support.cli_process import child_env  # noqa: E402
from tests.support.servers import Nginx  # noqa: E402
from tests.support.socks_probe import onion_address, socks_reply  # noqa: E402
from tests.support.tor_network import TorNetwork, site_config  # noqa: E402

DOGS = REPO.parent / "shared" / "stanford-dogs-partial" / "Images"
IMAGES_PER_PAGE = 20
ARMS = {  # name -> settings changed from the defaults
    "onion": {},
    "onion per_host=1": {"per_host": 1},
    "onion per_host=2": {"per_host": 2},
    "onion per_host=16": {"per_host": 16},
    "onion concurrency=4": {"concurrency": 4},
    "onion concurrency=64 per_host=64": {"concurrency": 64, "per_host": 64},
}
IDLE_SECONDS = 3.0  # how long the tors' CPU is sampled with nothing crawling, before each run


def make_site(root: Path, images: int) -> list[str]:
    """Pages of IMAGES_PER_PAGE dog photos each; the pages' paths."""
    sources = sorted(DOGS.rglob("*.jpg"))[:images]
    if len(sources) < images:
        raise SystemExit(f"only {len(sources)} images under {DOGS}")
    (root / "img").mkdir(parents=True)
    pages = []
    for start in range(0, images, IMAGES_PER_PAGE):
        names = []
        for source in sources[start : start + IMAGES_PER_PAGE]:
            shutil.copyfile(source, root / "img" / source.name)
            names.append(source.name)
        page = f"page{start // IMAGES_PER_PAGE}.html"
        (root / page).write_text("<html><body>" + "".join(f'<img src="img/{n}">' for n in names) + "</body></html>")
        pages.append("/" + page)
    return pages


def tor_cpu_seconds(network: TorNetwork) -> float:
    """User + system CPU of every tor of the network so far (/proc/PID/stat fields 14 and 15, in clock ticks)."""
    ticks = 0
    for pid in network.process_ids().values():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def crawl(work: Path, prefix: list[str], base: str, pages: list[str], socks: str, limits: dict[str, int]) -> dict[str, object]:
    """One run of an arm: ``crawler crawl`` over the pages; its wall time, CPU time and what it recorded."""
    work.mkdir(parents=True)
    (work / "urls.txt").write_text("".join(base + page + "\n" for page in pages))
    (work / "settings.toml").write_text(
        f'[tor]\nproxies = ["{socks}"]\n[limits]\n' + "".join(f"{key} = {value}\n" for key, value in limits.items())
    )
    command = [sys.executable, "-m", "crawler", "--settings", "settings.toml", "crawl", "urls.txt", "-o", "out", "--no-progress"]
    started, cpu = time.monotonic(), children_cpu_seconds()
    result = subprocess.run([*prefix, *command], cwd=work, env=child_env(), capture_output=True, text=True, timeout=3600)
    seconds, cpu = time.monotonic() - started, children_cpu_seconds() - cpu
    if result.returncode != 0:
        raise SystemExit(f"the crawl failed: {result.stderr}")
    records = [r for path in (work / "out").rglob("*.json") for r in json.loads(path.read_text())]
    statuses = {status: sum(r["status"] == status for r in records) for status in ("ok", "skipped", "error")}
    done = statuses["ok"] + statuses["skipped"]
    return {
        "seconds": round(seconds, 2), "crawler_cpu_s": round(cpu, 2), **statuses, "images_per_second": round(done / seconds, 2),
        "seconds_per_image": round(seconds / done, 4), "errors": sorted({str(r["error"]) for r in records if r["status"] == "error"})[:5],
    }


def probe(network: TorNetwork, host: str, username: str) -> float:
    """Seconds until Tor answers a CONNECT to host:80 (asserting success or the expected failure)."""
    started = time.monotonic()
    socks_reply(network.socks_socket, host, username)
    return round(time.monotonic() - started, 3)


def probes(network: TorNetwork, hosts: list[str], samples: int = 5) -> dict[str, object]:
    cold = [probe(network, hosts[i % len(hosts)], f"cold-{i}") for i in range(samples)]
    warm = [probe(network, hosts[0], "cold-0") for _ in range(samples)]
    key = (network.workdir / "relay0" / "keys" / "ed25519_master_id_public_key").read_bytes()[32:]
    started = time.monotonic()
    reply = socks_reply(network.socks_socket, onion_address(key), "unpublished")
    return {
        "connect_new_circuit_s": cold, "connect_new_circuit_median_s": statistics.median(cold),
        "connect_existing_circuit_s": warm, "connect_existing_circuit_median_s": statistics.median(warm),
        "unpublished_reply": reply.hex(), "unpublished_s": round(time.monotonic() - started, 2),
    }


def fastest_arm(runs: list[dict[str, object]]) -> dict[str, object]:
    """The fastest run, and every run's rate and CPU."""
    fastest = max(runs, key=lambda run: float(run["images_per_second"]))  # type: ignore[arg-type]
    return {**fastest, "rates": [run["images_per_second"] for run in runs],
            "tor_cpu_s": [run.get("tor_cpu_s") for run in runs],
            "tor_idle_core_share_before": [run.get("tor_idle_core_share_before") for run in runs]}


def markdown(result: dict[str, object]) -> str:
    arms: dict[str, dict[str, object]] = result["arms"]  # type: ignore[assignment]
    direct = float(arms["direct"]["images_per_second"])  # type: ignore[arg-type]
    lines = [
        "# Onion benchmark result", "",
        f"{result['images']} images (Stanford Dogs JPEGs) on {result['pages']} pages, {result['rounds']} rounds; "
        f"{result['machine']}. Tor network: {result['network']}. Defaults: {result['defaults']}. "
        "Each row: the fastest round (its seconds, counts, CPU), then every round's images/s and the share of a core "
        "the tors used, idle, just before it.", "",
        "| arm | seconds | ok | skipped | error | images/s | s/image | vs direct | crawler CPU s | tor CPU s | images/s per round | tor idle share of a core before each round |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, arm in arms.items():
        lines.append(
            f"| {name} | {arm['seconds']} | {arm['ok']} | {arm['skipped']} | {arm['error']} | {arm['images_per_second']} "
            f"| {arm['seconds_per_image']} | {float(arm['images_per_second']) / direct:.2f} "  # type: ignore[arg-type]
            f"| {arm['crawler_cpu_s']} | {arm['tor_cpu_s']} | {arm['rates']} | {arm['tor_idle_core_share_before']} |"
        )
    lines += ["", "Probes (raw SOCKS5 CONNECT to an onion service's port 80):", "", "```", json.dumps(result["probes"], indent=2), "```"]
    return "\n".join(lines) + "\n"


def idle_tor_share(network: TorNetwork) -> float:
    """The share of one core the tors use with nothing crawling (directory and descriptor upkeep)."""
    before = tor_cpu_seconds(network)
    time.sleep(IDLE_SECONDS)
    return round((tor_cpu_seconds(network) - before) / IDLE_SECONDS, 3)


def run_rounds(args: argparse.Namespace, work: Path, network: TorNetwork, nginx: Nginx, pages: list[str]) -> dict[str, object]:
    host = network.onion_hosts[0]
    runs: dict[str, list[dict[str, object]]] = {"direct": [], **{name: [] for name in ARMS}}
    for round_number in range(args.rounds):
        for name in runs:
            folder = work / f"round{round_number}" / name.replace(" ", "_")
            idle = idle_tor_share(network)
            before = tor_cpu_seconds(network)
            if name == "direct":
                run = crawl(folder, [], nginx.url("").rstrip("/"), pages, network.socks_address, {})
            else:
                run = crawl(folder, network.command_prefix, f"http://{host}", pages, network.socks_address, ARMS[name])
            run["tor_cpu_s"] = round(tor_cpu_seconds(network) - before, 2)
            run["tor_idle_core_share_before"] = idle
            runs[name].append(run)
            print(round_number, name, run, flush=True)
    return {name: fastest_arm(arm_runs) for name, arm_runs in runs.items()}


def main() -> None:
    parser = result_files.parser(__doc__, "onion-bench", whole_doc=True)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    defaults = load_settings(None, {})
    with tempfile.TemporaryDirectory(prefix="onion-bench-") as temp:
        work = Path(temp)
        pages = make_site(work / "site", args.images)
        nginx = Nginx(work / "site", work / "nginx", site_config(work / "nginx" / "nginx.sock", work / "site"))
        target = f"unix:{work / 'nginx' / 'nginx.sock'}"
        try:
            with TorNetwork(work / "tor", [target, target]) as network:
                load = os.getloadavg()[0]
                arms = run_rounds(args, work, network, nginx, pages)
                result = {
                    "images": args.images, "pages": len(pages), "rounds": args.rounds, "arms": arms,
                    "probes": probes(network, network.onion_hosts[-1:]),
                    "machine": f"{os.cpu_count()} cores, load average {load:.1f} at the start and "
                    f"{os.getloadavg()[0]:.1f} at the end (the machine is shared), {platform.platform()}",
                    "network": f"3 authorities + 3 relays on loopback, bootstrapped in {network.bootstrap_seconds:.0f} s; {network.protection}",
                    "defaults": f"per_host {defaults.limits.per_host}, concurrency {defaults.limits.concurrency}, onion timeouts "
                    f"connect {defaults.timeouts.onion_connect} s / read {defaults.timeouts.onion_read} s / total {defaults.timeouts.onion_total} s",
                }
        finally:
            nginx.stop()
    result_files.write(args.out, result, markdown)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C: the network and nginx are stopped on the way out
    main()
