"""Onion crawling end to end: the real CLI through a private Tor network of real ``tor`` processes.

``tests/support/tor_network.py`` builds the network once per session (Debian's
``tor``, loopback only) with two onion services in front of nginx serving the
nginx integration test's site. The CLI crawls the onion sites through the
client's SocksPort; every record field is checked against the served files,
Tor's control port shows which credentials and circuits each onion host used,
and a raw SOCKS5 client records the exact replies Tor sends for an unpublished
address, an invalid one and a service that went away, so that the crawler's
error kinds can be checked against what Tor really says.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from stem.control import EventType  # type: ignore[import-untyped]  # stem ships no type hints
from stem.response.events import CircuitEvent, StreamEvent  # type: ignore[import-untyped]

from crawler.net.tor import route_for
from tests.support.cli_process import child_env
from tests.support.netns import foreign_sockets
from tests.support.servers import Nginx
from tests.support.sites import IMAGES as SAMPLES
from tests.support.sites import expected_fields
from tests.support.socks_probe import (
    bad_checksum,
    onion_address,
    socks_reply,
    tor_reply,
)
from tests.support.tor_network import TorNetwork, onion_nginx, onion_site, tor_network  # noqa: F401  (fixtures)

Record = dict[str, Any]
pytestmark = pytest.mark.filterwarnings("ignore:setDaemon:DeprecationWarning")  # inside stem 1.8
# Tor's SOCKS5 replies (RFC 1928 codes, and Tor's ExtendedErrors for onion services).
SUCCEEDED, GENERAL_FAILURE = 0x00, 0x01
DESCRIPTOR_NOT_FOUND, INTRO_FAILED, ADDRESS_INVALID = 0xF0, 0xF2, 0xF6


# -- running the CLI and talking SOCKS -------------------------------------------


def crawl(network: TorNetwork, workdir: Path, urls: list[str], settings: str = "") -> tuple[list[Record], str]:
    """``crawler crawl`` over ``urls`` through the network's SocksPort: its records and stderr (exit 0 asserted)."""
    finished = finish(start_crawl(network, workdir, urls, settings))
    assert finished.returncode == 0, finished.stderr
    return load_records(workdir / "out"), finished.stderr


def start_crawl(network: TorNetwork, workdir: Path, urls: list[str], settings: str = "", attempts: int = 2) -> subprocess.Popen[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "settings.toml").write_text(
        f"[tor]\nproxies = {json.dumps([network.socks_address])}\n[retries]\nattempts = {attempts}\nbackoff = 0.0\n{settings}"
    )
    (workdir / "urls.txt").write_text("".join(url + "\n" for url in urls))
    command = [sys.executable, "-m", "crawler", "--settings", "settings.toml", "crawl", "urls.txt", "-o", "out", "--no-progress"]
    return subprocess.Popen(
        [*network.command_prefix, *command], cwd=workdir, env=child_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def load_records(output: Path) -> list[Record]:
    return [record for path in sorted(output.rglob("*.json")) for record in json.loads(path.read_text())]


def timed_reply(network: TorNetwork, host: str, username: str, password: str) -> tuple[str, float]:
    """Tor's reply in hex, and the seconds it took."""
    started = time.monotonic()
    reply = socks_reply(network.socks_socket, host, username, password)
    return reply.hex(), round(time.monotonic() - started, 1)


def unpublished_address(network: TorNetwork) -> str:
    """A well-formed v3 address with a real ed25519 key that no service publishes: a relay's identity key."""
    key_file = network.workdir / "relay0" / "keys" / "ed25519_master_id_public_key"
    return onion_address(key_file.read_bytes()[32:])  # a 32-byte header, then the key


# -- the network stays private ----------------------------------------------------------


def test_the_network_stays_on_loopback(tor_network: TorNetwork) -> None:
    print(f"\nprotection: {tor_network.protection}")
    if not tor_network.namespace.isolated:
        warnings.warn(f"the Tor network ran without a network namespace: {tor_network.protection}", stacklevel=1)
    torrcs = sorted(tor_network.workdir.glob("*/torrc"))
    assert len(torrcs) >= 8
    for path in torrcs:
        lines = path.read_text().splitlines()
        assert "TestingTorNetwork 1" in lines and "UseDefaultFallbackDirs 0" in lines, path
        authorities = [line for line in lines if line.startswith(("DirAuthority", "FallbackDir", "AlternateDirAuthority", "Bridge"))]
        assert len(authorities) == 3 and all(" 127.0.0.1:" in line for line in authorities), path
    if tor_network.namespace.isolated:
        command = [*tor_network.command_prefix, sys.executable, "-c", "import socket; print(socket.if_nameindex())"]
        assert subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip() == "[(1, 'lo')]"
    assert tor_network.process_ids(), "no tor is running"
    assert not tor_network.foreign, sorted(tor_network.foreign)


def test_the_socket_audit_sees_a_socket_off_loopback() -> None:
    """The audit itself can fail: a UDP socket connected off loopback (connecting UDP sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: documentation only, routed nowhere
        except OSError as exc:
            pytest.skip(f"no route to pick a source address from: {exc}")
        found = foreign_sockets(os.getpid(), whole_namespace=False)
    assert any("192.0.2.1:9" in entry for entry in found), found


# -- the crawl both onion hosts share -------------------------------------------


@dataclass
class OnionCrawl:
    records: list[Record]
    stderr: str
    streams: list[StreamEvent]
    circuits: dict[str, CircuitEvent]  # circuit id -> its latest state, as Tor reported it
    access_log: list[list[str]]  # nginx's lines for this crawl, split


@pytest.fixture(scope="module")
def onion_crawl(tor_network: TorNetwork, onion_nginx: Nginx, tmp_path_factory: pytest.TempPathFactory) -> OnionCrawl:
    """The CLI over pages on both onion hosts, with Tor's stream and circuit events recorded."""
    first, second = tor_network.onion_hosts
    urls = [f"http://{first}/index.html", f"http://{first}/based.html", f"http://{first}/direct.jpg", f"http://{second}/index.html"]
    control = tor_network.controller()
    streams: list[StreamEvent] = []
    circuits: dict[str, CircuitEvent] = {}
    control.add_event_listener(streams.append, EventType.STREAM)
    control.add_event_listener(lambda event: circuits.__setitem__(event.id, event), EventType.CIRC)
    logged = len(onion_nginx.access_log())
    records, stderr = crawl(tor_network, tmp_path_factory.mktemp("onion-crawl"), urls)
    for circuit in control.get_circuits():  # circuits still open: their isolation fields as of now
        circuits[circuit.id] = circuit
    control.close()
    return OnionCrawl(records, stderr, streams, circuits, [line.split() for line in onion_nginx.access_log()[logged:]])


def test_onion_records_match_the_served_files(tor_network: TorNetwork, onion_crawl: OnionCrawl, onion_site: Path) -> None:
    first, second = tor_network.onion_hosts
    by_url = {str(record["url"]): record for record in onion_crawl.records}
    expected = {f"http://{first}/{name}" for name in SAMPLES} | {f"http://{second}/{name}" for name in SAMPLES if name != "deep/dir/based.jpg" and name != "direct.jpg"}
    expected |= {f"http://{host}/img/missing.jpg" for host in (first, second)}
    assert set(by_url) == expected
    assert len(onion_crawl.records) == len(by_url), "an image was recorded twice"
    for url, record in by_url.items():
        name = url.split(".onion/", 1)[1]
        if name == "img/small.jpg":
            assert (record["status"], record["error_kind"], record["image_size"]) == ("skipped", "too_small", 12898)
        elif name == "img/missing.jpg":
            assert (record["status"], record["error_kind"]) == ("error", "http_404")
        else:
            assert record["status"] == "ok", record
            for key, value in expected_fields(onion_site / name).items():
                assert record[key] == value, (url, key)
            assert 10240 <= record["bytes_fetched"] <= 262144, url
    assert by_url[f"http://{first}/deep/dir/based.jpg"]["page_url"] == f"http://{first}/based.html"
    assert by_url[f"http://{second}/img/canon.jpg"]["page_url"] == f"http://{second}/index.html"
    assert by_url[f"http://{first}/direct.jpg"]["page_url"] is None


def test_onion_bytes_fetched_are_what_nginx_sent(onion_crawl: OnionCrawl) -> None:
    """Both hosts share one nginx (its log does not say which host): compare the totals per file."""
    for name in SAMPLES:
        served = sum(int(fields[4]) for fields in onion_crawl.access_log if fields[1] == "/" + name)
        fetched = sum(r["bytes_fetched"] or 0 for r in onion_crawl.records if str(r["url"]).endswith(".onion/" + name))
        assert fetched == served, name
    assert all(fields[5] != "-" or fields[1].endswith(".html") for fields in onion_crawl.access_log), "a request without Range"


def test_each_onion_host_uses_its_own_credentials_and_circuits(tor_network: TorNetwork, onion_crawl: OnionCrawl) -> None:
    proxies = [tor_network.socks_address]
    used: dict[str, set[str]] = {}  # onion host -> circuit ids its streams went over
    usernames: dict[str, set[str | None]] = {}
    for event in onion_crawl.streams:
        host = str(event.target_address)
        if event.status == "SUCCEEDED" and host.endswith(".onion"):  # not Tor's own directory fetches
            used.setdefault(host, set()).add(str(event.circ_id))
            usernames.setdefault(host, set()).add(event.keyword_args.get("SOCKS_USERNAME"))
    assert set(used) == set(tor_network.onion_hosts), used
    for host in tor_network.onion_hosts:
        route = route_for(host, proxies, route_all=False)
        assert usernames[host] == {route.username}, (host, usernames[host])
        for circuit_id in used[host]:
            circuit = onion_crawl.circuits[circuit_id]
            assert circuit.socks_username == route.username, (host, circuit)
            assert circuit.rend_query == host.removesuffix(".onion"), (host, circuit)
    first, second = (used[host] for host in tor_network.onion_hosts)
    assert not first & second, f"two onion hosts shared circuits {first & second}"


# -- what Tor answers, and what the crawler makes of it ----------------------------

SCENARIOS = {  # name -> (the host asked for, Tor's reply code, the crawler's error kind)
    "unpublished": (unpublished_address, DESCRIPTOR_NOT_FOUND, "onion_descriptor_not_found"),
    "bad checksum": (lambda network: bad_checksum(network.onion_hosts[0]), ADDRESS_INVALID, "onion_address_invalid"),
    "too short": (lambda network: "abcdefghij.onion", ADDRESS_INVALID, "onion_address_invalid"),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tor_replies_to_a_bad_onion_with_its_extended_error(tor_network: TorNetwork, scenario: str) -> None:
    address, code, _kind = SCENARIOS[scenario]
    assert socks_reply(tor_network.socks_socket, address(tor_network), f"probe-{scenario}") == tor_reply(code)


@pytest.fixture(scope="module")
def bad_onion_records(tor_network: TorNetwork, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Record]:
    """One crawl of a URL per scenario: scenario -> its record."""
    urls = {f"http://{address(tor_network)}/img/canon.jpg": name for name, (address, _, _) in SCENARIOS.items()}
    records, _stderr = crawl(tor_network, tmp_path_factory.mktemp("bad-onions"), list(urls))
    assert sorted(str(record["url"]) for record in records) == sorted(urls)
    return {urls[str(record["url"])]: record for record in records}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_bad_onion_is_an_error_record(bad_onion_records: dict[str, Record], scenario: str) -> None:
    record = bad_onion_records[scenario]
    assert record["status"] == "error" and record["error"], record
    assert record["sha256_first_10240_bytes"] is None


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_bad_onion_has_the_error_kind_of_tors_reply(bad_onion_records: dict[str, Record], scenario: str) -> None:
    assert bad_onion_records[scenario]["error_kind"] == SCENARIOS[scenario][2], bad_onion_records[scenario]


# -- an onion service that goes away -----------------------------------------------

SOCKS_TIMEOUT = 20  # seconds Tor lets a stream wait for a circuit: 120 by default, shortened for these tests
TTL_EXPIRED = 0x06


@dataclass
class GoneAway:
    records: dict[str, Record]  # served name -> record
    replies: dict[str, tuple[str, float]]  # whose credentials -> (Tor's reply, in hex; seconds it took)


@pytest.fixture(scope="module")
def gone_away(tor_network: TorNetwork, onion_nginx: Nginx, tmp_path_factory: pytest.TempPathFactory) -> GoneAway:
    """A crawl of three throttled images, one at a time, on a service whose ``tor`` dies once the first is recorded;
    then what Tor answers for it, through the crawler's circuit and through a new one."""
    host, service = tor_network.add_service(f"unix:{onion_nginx.state / 'nginx.sock'}")
    control = tor_network.controller()
    control.set_conf("SocksTimeout", str(SOCKS_TIMEOUT))
    try:
        names = ["img/canon.jpg", "img/nikon.jpg", "img/sony.jpg"]
        workdir = tmp_path_factory.mktemp("gone-away")
        settings = "[limits]\nper_host = 1\n[fingerprint]\nmax_rounds = 0\n"
        process = start_crawl(tor_network, workdir, [f"http://{host}/slow/{name}" for name in names], settings, attempts=1)
        started = time.monotonic()
        while not any((workdir / "out").rglob("*.json")):  # a listed URL's file is written once it is done
            assert process.poll() is None and time.monotonic() - started < 120, "the first image was never recorded"
            time.sleep(0.05)
        tor_network.kill(service)
        finished = finish(process)
        assert finished.returncode == 0, finished.stderr
        records = {str(record["url"]).split("/slow/", 1)[1]: record for record in load_records(workdir / "out")}
        crawler = route_for(host, [tor_network.socks_address], route_all=False)
        credentials = {"crawler": (str(crawler.username), str(crawler.password)), "new": ("new", "new")}
        with ThreadPoolExecutor() as pool:  # both at once: each may take the whole SocksTimeout
            asked = {whose: pool.submit(timed_reply, tor_network, host, *pair) for whose, pair in credentials.items()}
            replies = {whose: future.result() for whose, future in asked.items()}
    finally:
        control.reset_conf("SocksTimeout")
    print(f"\nvanished service: replies {replies}; records "
          + json.dumps({name: (r["status"], r["error_kind"], r["error"]) for name, r in records.items()}))
    return GoneAway(records, replies)


def test_a_service_vanishing_mid_crawl_fails_only_what_was_left(gone_away: GoneAway) -> None:
    assert set(gone_away.records) == {"img/canon.jpg", "img/nikon.jpg", "img/sony.jpg"}
    assert gone_away.records["img/canon.jpg"]["status"] == "ok"
    for name in ("img/nikon.jpg", "img/sony.jpg"):
        record = gone_away.records[name]
        assert record["status"] == "error" and record["error"], record


def test_tor_replies_for_a_vanished_service(gone_away: GoneAway) -> None:
    """No extended error says "gone": general failure, TTL expired (no circuit in time) or introduction failed."""
    allowed = {tor_reply(code).hex() for code in (GENERAL_FAILURE, TTL_EXPIRED, INTRO_FAILED)}
    assert {reply for reply, _seconds in gone_away.replies.values()} <= allowed, gone_away.replies
    assert all(seconds <= SOCKS_TIMEOUT + 5 for _reply, seconds in gone_away.replies.values()), gone_away.replies


def test_a_service_vanishing_mid_crawl_has_the_error_kind_of_tors_reply(gone_away: GoneAway) -> None:
    kinds = {"socks_general_failure": GENERAL_FAILURE, "socks_ttl_expired": TTL_EXPIRED, "onion_intro_failed": INTRO_FAILED}
    assert gone_away.records["img/sony.jpg"]["error_kind"] in kinds, gone_away.records["img/sony.jpg"]
