"""No host holds up another; a dead host fails fast. The real CLI against many loopback hosts.

``tests/support/host_rig.py`` serves one host per loopback address: live
hosts answer after a delay, hanging ones accept and never answer, refusing
ones refuse. Record timestamps say when each listed URL was finished.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.support import cli_process
from tests.support.host_rig import running

TIMEOUT = 2.0


def crawl(tmp_path: Path, urls: list[str], *settings: str) -> list[dict[str, Any]]:
    (tmp_path / "urls.txt").write_text("".join(url + "\n" for url in urls))
    (tmp_path / "s.toml").write_text(
        f"[timeouts]\nconnect = {TIMEOUT}\nread = {TIMEOUT}\ntotal = {TIMEOUT}\n"
        "[retries]\nbackoff = 0.1\n[fingerprint]\nmax_rounds = 0\nmin_image_bytes = 0\n" + "".join(settings)
    )
    result = cli_process.run(tmp_path, "crawl", "urls.txt", "-o", "out", "--no-progress", "--settings", "s.toml")
    assert result.returncode == 0, result.stderr
    return [record for records in cli_process.load_files(tmp_path / "out").values() for record in records]


def when(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(record["timestamp"]).replace("Z", "+00:00")).timestamp()


def host(record: dict[str, Any]) -> str:
    return str(record["url"]).split("/")[2].split(":")[0]


def test_dead_hosts_listed_first_do_not_delay_a_live_one(tmp_path: Path) -> None:
    """Before: every worker sat on a dead host's URLs, and the live host's 5 waited for their timeouts."""
    with running(delay_ms=20, live=1, hang=10, refuse=10) as rig:
        dead = [rig.url(h, f"/img{n}.jpg") for h in rig.hang + rig.refuse for n in range(4)]
        live = [rig.url(rig.live[0], f"/img{n}.jpg") for n in range(5)]
        records = crawl(tmp_path, dead + live, "[limits]\nconcurrency = 8\nper_host = 2\n")
    alive = [r for r in records if host(r) in rig.live]
    hung = [r for r in records if host(r) in rig.hang]
    assert [r["status"] for r in alive] == ["ok"] * 5
    assert max(when(r) for r in alive) < min(when(r) for r in hung), "a live host waited for dead ones"
    assert {r["status"] for r in hung} == {"error"}


def test_a_dead_host_is_given_up_after_failures_in_a_row_and_its_other_urls_fail_at_once(tmp_path: Path) -> None:
    with running(delay_ms=20, live=0, hang=1, refuse=1) as rig:
        hang = [rig.url(rig.hang[0], f"/img{n}.jpg") for n in range(20)]
        refuse = [rig.url(rig.refuse[0], f"/img{n}.jpg") for n in range(20)]
        records = crawl(tmp_path, hang + refuse, "[limits]\nper_host = 2\ndead_host_failures = 2\n")
    for hosts, first in ((rig.hang, "no complete answer within 2 s"), (rig.refuse, "cannot connect")):
        mine = [r for r in records if host(r) in hosts]
        given_up = [r for r in mine if r["error_kind"] == "host_unreachable"]
        assert len(mine) == 20 and len(given_up) >= 18, json.dumps([r["error_kind"] for r in mine])
        assert all(f"{hosts[0]} is unreachable: " in r["error"] and first in r["error"] for r in given_up)
    hung = [when(r) for r in records if host(r) in rig.hang]
    # two probes time out together, then everything else fails without a request
    assert max(hung) - min(hung) < 3 * TIMEOUT, "the given-up host's URLs each waited out their own timeouts (10 waves)"
