"""Tor routing end to end: the real CLI, a recording SOCKS5 server and nginx on loopback.

The SOCKS5 server (``tests/support/socks_server.py``) plays Tor: it records every
CONNECT (address type, host, port, credentials) and tunnels it to nginx, which
plays every hidden service. The CLI runs as a subprocess with a settings file
naming the proxies. The tests prove: onion names reach the proxy as names
(ATYP 0x03), never resolved locally; clearnet goes direct unless
``tor.route_all``; each onion host sticks to one proxy with credentials of its
own; a dead, refusing or non-SOCKS proxy fails only the onion URLs, with a
clear record; onion requests run under the ``timeouts.onion_*`` settings.
No test needs the internet or a running Tor.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crawler.net.tor import route_for
from tests.support import cli_process, sites
from tests.support.fetching import fetch_error
from tests.support.servers import Nginx, free_port
from tests.support.sites import build_site
from tests.support.socks_server import (
    ATYP_DOMAIN,
    ATYP_IPV4,
    SocksFactory,
    SocksServer,
    onion,
)

IMAGES = {  # served name -> corpus file
    "img/canon.jpg": "jpeg/FujiFilm_FinePixS1Pro_1.jpg",
    "img/nikon.jpg": "jpeg/Pentax_ist_D.jpg",
    "img/sony.jpg": "jpeg/Sony_Cybershot_3.jpg",
}
INDEX = '<html><body><img src="img/canon.jpg"><img srcset="img/nikon.jpg 1x, img/sony.jpg 2x"></body></html>'

Record = dict[str, Any]


@pytest.fixture
def site(tmp_path: Path, corpus: Path) -> Path:
    return build_site(tmp_path / "site", corpus, IMAGES, {"index.html": INDEX})


@pytest.fixture
def nginx(site: Path, nginx_factory: Callable[[Path], Nginx]) -> Nginx:
    return nginx_factory(site)


# -- running the CLI -----------------------------------------------------------


def crawl(workdir: Path, urls: list[str], proxies: list[str], route_all: bool = False, output: str = "out") -> list[Record]:
    """Run ``crawler crawl`` over ``urls`` with these Tor settings; its records (exit code 0 asserted)."""
    settings = workdir / "settings.toml"
    settings.write_text(
        f"[tor]\nproxies = {json.dumps(proxies)}\nroute_all = {str(route_all).lower()}\n"
        "[retries]\nattempts = 2\nbackoff = 0.0\n"
    )
    (workdir / "urls.txt").write_text("".join(url + "\n" for url in urls))
    result = cli_process.run(workdir, "--settings", str(settings), "crawl", "urls.txt", "-o", output, "--no-progress",
                             timeout=60)
    assert result.returncode == 0, result.stderr
    return cli_process.load_records(workdir / output)


def page_records(records: list[Record], page_url: str) -> dict[str, Record]:
    """The records of the images found on ``page_url``, by served name."""
    base = page_url.rsplit("/", 1)[0] + "/"
    return {str(r["url"]).removeprefix(base): r for r in records if r["page_url"] == page_url}


def assert_fingerprinted(records: list[Record], page_url: str, site: Path) -> None:
    """Every image of the page was fetched and fingerprinted from the served bytes."""
    found = page_records(records, page_url)
    assert set(found) == set(IMAGES), found
    for name, record in found.items():
        data = (site / name).read_bytes()
        sites.assert_fingerprinted(record, data, len(data))


def listed_record(records: list[Record], url: str) -> Record:
    """The one record of a listed URL that failed as a whole."""
    matching = [r for r in records if r["url"] == url]
    assert len(matching) == 1, records
    return matching[0]


def connects_by_host(servers: list[SocksServer]) -> dict[str, set[tuple[str, str | None, str | None]]]:
    """host -> the (proxy, username, password) of every CONNECT for it, over all the proxies."""
    seen: dict[str, set[tuple[str, str | None, str | None]]] = {}
    for server in servers:
        for request in server.requests:
            seen.setdefault(request.host, set()).add((server.address, request.username, request.password))
    return seen


def connect_count(servers: list[SocksServer]) -> Counter[str]:
    """host -> how many CONNECTs asked for it, over all the proxies."""
    return Counter(request.host for server in servers for request in server.requests)


# -- routing -------------------------------------------------------------------


def test_onion_names_reach_the_proxy_unresolved_and_clearnet_goes_direct(
    tmp_path: Path, site: Path, nginx: Nginx, socks_servers: SocksFactory
) -> None:
    proxy = socks_servers(nginx.port)
    onions = [onion("first"), onion("second")]
    pages = [f"http://{host}/index.html" for host in onions]
    clearnet = nginx.url("/index.html")

    records = crawl(tmp_path, [*pages, clearnet], [proxy.address])

    for page in [*pages, clearnet]:
        assert_fingerprinted(records, page, site)
    requests = proxy.requests
    assert {request.host for request in requests} == set(onions), "clearnet went through the proxy"
    assert all((request.atyp, request.port) == (ATYP_DOMAIN, 80) for request in requests), requests


def test_route_all_sends_clearnet_through_the_proxy(
    tmp_path: Path, site: Path, nginx: Nginx, socks_servers: SocksFactory
) -> None:
    proxy = socks_servers(nginx.port)
    page = f"http://{onion('first')}/index.html"
    clearnet = nginx.url("/index.html")

    records = crawl(tmp_path, [page, clearnet], [proxy.address], route_all=True)

    assert_fingerprinted(records, page, site)
    assert_fingerprinted(records, clearnet, site)
    targets = {(request.atyp, request.host, request.port) for request in proxy.requests}
    assert targets == {(ATYP_DOMAIN, onion("first"), 80), (ATYP_IPV4, "127.0.0.1", nginx.port)}
    assert len(connects_by_host([proxy])["127.0.0.1"]) == 1


def test_each_onion_host_sticks_to_one_proxy_with_its_own_credentials(
    tmp_path: Path, site: Path, nginx: Nginx, socks_servers: SocksFactory
) -> None:
    proxies = [socks_servers(nginx.port) for _ in range(3)]
    addresses = [proxy.address for proxy in proxies]
    onions = [onion(f"host-{i}") for i in range(5)]
    pages = [f"http://{host}/index.html" for host in onions]

    first = crawl(tmp_path, pages, addresses, output="first")
    after_first, count_first = connects_by_host(proxies), connect_count(proxies)
    second = crawl(tmp_path, pages, addresses, output="second")
    after_both, count_both = connects_by_host(proxies), connect_count(proxies)

    for page in pages:
        assert_fingerprinted(first, page, site)
        assert_fingerprinted(second, page, site)
    assert all(count_both[host] > count_first[host] > 0 for host in onions), "a host made no CONNECT in a run"
    assert after_both == after_first, "a host changed proxy or credentials in the second run"
    for host in onions:
        assert len(after_both[host]) == 1, f"{host} used several proxies or credentials: {after_both[host]}"
    chosen = {host: next(iter(after_both[host])) for host in onions}  # host -> (proxy, username, password)
    assert {host: proxy for host, (proxy, _, _) in chosen.items()} == {
        host: route_for(host, addresses, route_all=False).proxy for host in onions
    }
    assert len({username for _, username, _ in chosen.values()}) == len(onions), "two hosts share credentials"
    assert len({proxy for proxy, _, _ in chosen.values()}) >= 2, "the hosts did not spread over the proxies"


# -- failing proxies -----------------------------------------------------------


def test_a_dead_proxy_fails_only_the_onion_urls(tmp_path: Path, site: Path, nginx: Nginx) -> None:
    dead = f"127.0.0.1:{free_port()}"
    pages = [f"http://{onion('first')}/index.html", f"http://{onion('second')}/index.html"]
    clearnet = nginx.url("/index.html")

    records = crawl(tmp_path, [*pages, clearnet], [dead])

    assert_fingerprinted(records, clearnet, site)
    for page in pages:
        record = listed_record(records, page)
        assert (record["status"], record["error_kind"]) == ("error", "proxy")
        assert record["error"].startswith(f"Tor SOCKS proxy at {dead} is not reachable ("), record["error"]
    assert len(records) == len(IMAGES) + len(pages)


def test_a_dead_proxy_fails_only_the_hosts_that_stick_to_it(
    tmp_path: Path, site: Path, nginx: Nginx, socks_servers: SocksFactory
) -> None:
    live, dead = socks_servers(nginx.port).address, f"127.0.0.1:{free_port()}"
    onions = [onion(f"host-{i}") for i in range(5)]
    on_dead = {host for host in onions if route_for(host, [live, dead], route_all=False).proxy == dead}
    assert 0 < len(on_dead) < len(onions), "pick hosts that spread over both proxies"

    records = crawl(tmp_path, [f"http://{host}/index.html" for host in onions], [live, dead])

    for host in onions:
        page = f"http://{host}/index.html"
        if host in on_dead:
            assert listed_record(records, page)["error_kind"] == "proxy"
        else:
            assert_fingerprinted(records, page, site)


def test_a_proxy_answering_host_unreachable_gives_a_clear_error(
    tmp_path: Path, site: Path, nginx: Nginx, socks_servers: SocksFactory
) -> None:
    proxy = socks_servers(nginx.port, mode="refuse")
    page = f"http://{onion('gone')}/index.html"
    clearnet = nginx.url("/index.html")

    records = crawl(tmp_path, [page, clearnet], [proxy.address])

    assert_fingerprinted(records, clearnet, site)
    record = listed_record(records, page)
    assert (record["status"], record["error_kind"]) == ("error", "socks_host_unreachable")
    assert record["error"] == (
        "Tor could not reach the host: the service may be offline, or Tor not connected "
        f"({onion('gone')}: SOCKS reply 0x04 from {proxy.address})"
    )
    assert [request.host for request in proxy.requests] == [onion("gone")] * 2, "retried once (attempts = 2)"


# -- the fetch layer against misbehaving proxies (no subprocess: fast) ----------


def test_a_port_that_does_not_speak_socks_is_a_proxy_error(socks_servers: SocksFactory) -> None:
    proxy = socks_servers(mode="http")
    error, _ = fetch_error(f"http://{onion('x')}/a.jpg", **{"tor.proxies": [proxy.address]})
    assert error.kind == "proxy"
    assert error.message.startswith(f"Tor SOCKS proxy at {proxy.address} did not answer as a SOCKS5 proxy ("), error.message


@pytest.mark.parametrize("through_tor", [True, False])
def test_a_tls_failure_is_a_tls_error_not_a_proxy_error(nginx: Nginx, socks_servers: SocksFactory, through_tor: bool) -> None:
    proxy = socks_servers(nginx.port)  # nginx answers plain HTTP to the TLS handshake, directly or through the tunnel
    url = f"https://{onion('x')}/img/canon.jpg" if through_tor else f"https://127.0.0.1:{nginx.port}/img/canon.jpg"
    error, _ = fetch_error(url, **{"tor.proxies": [proxy.address]})
    assert error.kind == "tls", error.message
    assert [(request.atyp, request.port) for request in proxy.requests] == ([(ATYP_DOMAIN, 443)] if through_tor else [])


_SLOW = {f"timeouts.{key}": 5.0 for key in ("connect", "read", "total", "onion_connect", "onion_read", "onion_total")}


@pytest.mark.parametrize(
    ("route", "timeout", "message"),
    [
        ("silent proxy", "onion_total", "no complete answer within 0.3 s"),  # the SOCKS handshake has no timeout of its own
        ("tunnel", "onion_total", "no complete answer within 0.3 s"),
        ("tunnel", "onion_read", None),
        ("direct", "total", "no complete answer within 0.3 s"),
        ("direct", "read", None),
    ],
)
def test_each_route_runs_under_its_own_timeouts(socks_servers: SocksFactory, route: str, timeout: str, message: str | None) -> None:
    silent = socks_servers(mode="stall")  # accepts, never answers: a proxy or a server that hangs
    tunnel = socks_servers(silent.port)
    if route == "direct":
        url, proxy = f"http://127.0.0.1:{silent.port}/a.jpg", tunnel.address
    else:
        url, proxy = f"http://{onion('slow')}/a.jpg", silent.address if route == "silent proxy" else tunnel.address

    error, elapsed = fetch_error(url, **{**_SLOW, f"timeouts.{timeout}": 0.3, "tor.proxies": [proxy]})

    assert error.kind == "timeout", error.message
    assert message is None or error.message == message
    assert 0.3 <= elapsed < 2.0, elapsed
    assert [request.host for request in tunnel.requests] == ([onion("slow")] if route == "tunnel" else [])
