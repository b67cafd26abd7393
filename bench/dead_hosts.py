"""Scheduling benchmark: a list where most hosts are dead must cost one timeout, not one per URL.

Runs the real CLI over a list of ``--hosts`` hosts on loopback (``tests/support/host_rig.py``),
``--per-host`` listed image URLs each, in a seeded random order. ``--dead`` of
the hosts are dead: half accept connections and never answer, half refuse
them. The live ones answer after ``--delay-ms``. It reports the run's wall
time against two ideals, each the live work plus one timeout for the dead
hosts (which pass in parallel): the *network* ideal counts the live
requests at full concurrency and nothing else; the *measured* ideal is the
same crawler's wall time over the live URLs alone, in the same run, so it
includes the crawler's own CPU per URL and isolates what the dead hosts
cost. It also reports when the healthy hosts' last record and the hanging
hosts' first error were made.

Usage: ``python bench/dead_hosts.py [--hosts 400] [--per-host 5] [--dead 0.6] [--timeout 3]
[--concurrency 32] [--repo PATH] [--out bench/results/dead-hosts]``. ``--repo`` runs the CLI
of another checkout, to compare a change against its base in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import result_files  # noqa: E402  (beside this script)
from tests.support.host_rig import Rig, running  # noqa: E402


def url_list(rig: Rig, per_host: int, seed: int) -> list[str]:
    urls = [rig.url(host, f"/img{n}.jpg") for hosts in (rig.live, rig.hang, rig.refuse) for host in hosts
            for n in range(per_host)]
    random.Random(seed).shuffle(urls)
    return urls


def run_crawler(repo: Path, work: Path, urls: list[str], args: argparse.Namespace) -> float:
    (work / "urls.txt").write_text("".join(url + "\n" for url in urls))
    (work / "settings.toml").write_text(
        f"[limits]\nconcurrency = {args.concurrency}\nper_host = {args.per_host_limit}\n"
        f"[timeouts]\nconnect = {args.timeout}\nread = {args.timeout}\ntotal = {args.timeout}\n"
        "[retries]\nbackoff = 0.5\n[fingerprint]\nmax_rounds = 0\n"
    )
    env = {**os.environ, "PYTHONPATH": str(repo)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "crawler", "crawl", "urls.txt", "-o", "out", "--no-progress"],
                          cwd=work, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: some URLs failed, as dead hosts do
        raise RuntimeError(f"{repo}: crawler exited {done.returncode}: {done.stderr[-2000:]}")
    return time.monotonic() - started


def records(out: Path) -> list[dict[str, Any]]:
    return [record for path in out.rglob("*.json") for record in json.loads(path.read_text())]


def stamp(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")).timestamp()


def crawl(repo: Path, urls: list[str], args: argparse.Namespace) -> tuple[float, list[dict[str, Any]]]:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        wall = run_crawler(repo, work, urls, args)
        return wall, records(work / "out")


def host_of(record: dict[str, Any]) -> str:
    return str(record["url"]).split("/")[2].split(":")[0]


def measure(repo: Path, rig: Rig, args: argparse.Namespace) -> dict[str, Any]:
    urls = url_list(rig, args.per_host, args.seed)
    live_hosts = set(rig.live)
    live_wall, live_alone = crawl(repo, [url for url in urls if url.split("/")[2].split(":")[0] in live_hosts], args)
    wall, found = crawl(repo, urls, args)
    host = {"live": live_hosts, "hang": set(rig.hang), "refuse": set(rig.refuse)}
    by_kind = {kind: [r for r in found if host_of(r) in hosts] for kind, hosts in host.items()}
    first = min(stamp(r) for r in found)
    live_requests = len(by_kind["live"])
    ideal = live_requests * args.delay_ms / 1000 / args.concurrency + args.timeout
    measured_ideal = live_wall + args.timeout
    return {
        "repo": str(repo),
        "listed": len(urls),
        "wall_s": round(wall, 2),
        "network_ideal_s": round(ideal, 2),
        "ratio_to_network_ideal": round(wall / ideal, 2),
        "live_alone_wall_s": round(live_wall, 2),
        "live_alone_last_record_s": round(max(map(stamp, live_alone)) - min(map(stamp, live_alone)), 2),
        "measured_ideal_s": round(measured_ideal, 2),
        "ratio_to_measured_ideal": round(wall / measured_ideal, 2),
        "live_ok": sum(r["status"] == "ok" for r in by_kind["live"]),
        "live_last_record_s": round(max(stamp(r) for r in by_kind["live"]) - first, 2),
        "hang_first_error_s": round(min(stamp(r) for r in by_kind["hang"]) - first, 2) if by_kind["hang"] else None,
        "errors": sorted({r["error_kind"] for r in found if r["status"] == "error"}),
    }


def main() -> None:
    parser = result_files.parser(__doc__, "dead-hosts")
    parser.add_argument("--hosts", type=int, default=400)
    parser.add_argument("--per-host", type=int, default=5, help="listed URLs per host")
    parser.add_argument("--dead", type=float, default=0.6, help="share of dead hosts (half hang, half refuse)")
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--timeout", type=float, default=3.0, help="the crawler's timeouts (connect, read, total)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-host-limit", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repo", type=Path, action="append", help="checkout(s) whose CLI to run (default: this one)")
    args = parser.parse_args()
    dead = round(args.hosts * args.dead)
    with running(args.delay_ms, args.hosts - dead, dead // 2, dead - dead // 2) as rig:
        results = [measure(repo, rig, args) for repo in (args.repo or [REPO])]
    report = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "repo"},
              "runs": results}
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
