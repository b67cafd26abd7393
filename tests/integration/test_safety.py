"""Crawling hostile pages: the real CLI against real servers and a real SOCKS5 proxy on loopback.

Tor: an onion page (served through the recording SOCKS5 proxy,
``tests/socks_server.py``) embeds images on clearnet hosts (``tracker.test``,
a name only the proxy knows; an IP literal; a redirect target). The clearnet
server must see no connection that the proxy did not tunnel, and the CLI,
run with a ``sitecustomize.py`` that logs every name given to the resolver,
must never look those names up. Zones: ``safety.public_networks =
["127.0.0.2/32"]`` makes a server bound to 127.0.0.2 a public server; its
page links to and redirects to 127.0.0.1, the private zone.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.answers import ImageResponse
from crawler.errors import FetchError
from crawler.net.fetch import Fetcher
from crawler.settings import load_settings
from tests.support import faulty_server as fs
from tests.support.cli_process import ROOT
from tests.support.socks_server import (
    ATYP_DOMAIN,
    ATYP_IPV4,
    SocksFactory,
    SocksServer,
    onion,
)

Record = dict[str, Any]

DNS_HOOK = '''
import asyncio.base_events, os, socket

def _log(host):
    with open(os.environ["DNS_LOG"], "a") as log:
        log.write((host.decode() if isinstance(host, bytes) else str(host)) + "\\n")

_getaddrinfo, _gethostbyname = socket.getaddrinfo, socket.gethostbyname
_loop_getaddrinfo = asyncio.base_events.BaseEventLoop.getaddrinfo

def getaddrinfo(host, *args, **kwargs):
    _log(host)
    return _getaddrinfo(host, *args, **kwargs)

def gethostbyname(host):
    _log(host)
    return _gethostbyname(host)

async def loop_getaddrinfo(self, host, *args, **kwargs):
    _log(host)
    return await _loop_getaddrinfo(self, host, *args, **kwargs)

socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname
asyncio.base_events.BaseEventLoop.getaddrinfo = loop_getaddrinfo
'''


@pytest.fixture
def jpeg(corpus: Path) -> bytes:
    return (corpus / "jpeg/FujiFilm_FinePixS1Pro_1.jpg").read_bytes()


@pytest.fixture
def servers() -> Iterator[list[fs.FaultyServer]]:
    started: list[fs.FaultyServer] = []
    yield started
    for server in started:
        server.stop()


def crawl(workdir: Path, urls: list[str], settings: str) -> tuple[list[Record], list[str], str]:
    """Run the CLI with the DNS-logging hook: (records, names looked up, stdout + stderr)."""
    hook = workdir / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(DNS_HOOK)
    dns_log = workdir / "dns.log"
    dns_log.write_text("")
    (workdir / "settings.toml").write_text(settings + "\n[retries]\nattempts = 2\nbackoff = 0.0\n")
    (workdir / "urls.txt").write_text("".join(url + "\n" for url in urls))
    env = {**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{ROOT}", "DNS_LOG": str(dns_log), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "crawler", "--settings", "settings.toml", "crawl", "urls.txt", "-o", "out", "--no-progress"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 0, result.stderr
    records = [record for path in sorted((workdir / "out").rglob("*.json")) for record in json.loads(path.read_text())]
    return records, dns_log.read_text().split(), result.stdout + result.stderr


def by_url(records: list[Record]) -> dict[str, Record]:
    return {str(record["url"]): record for record in records}


# -- nothing found through Tor leaves Tor -------------------------------------------


@pytest.fixture
def onion_site(servers: list[fs.FaultyServer], jpeg: bytes) -> dict[str, Any]:
    """An onion page embedding clearnet images, the tracker server they are on, and a control server."""
    hidden, tracker, control = fs.FaultyServer(), fs.FaultyServer(), fs.FaultyServer()
    servers += [hidden, tracker, control]
    host = onion("hostile")
    images = ["http://tracker.test/p.jpg", f"http://127.0.0.1:{tracker.port}/q.jpg", f"http://{host}/r.jpg", f"http://{host}/own.jpg"]
    hidden.route("/index.html", fs.html("".join(f'<img src="{src}">' for src in images).encode()))
    hidden.route("/r.jpg", fs.redirect("http://redirected.test/s.jpg"))  # an onion URL redirecting to clearnet
    hidden.route("/own.jpg", fs.static(jpeg))
    for path in ("/p.jpg", "/q.jpg", "/s.jpg"):
        tracker.route(path, fs.static(jpeg))
    control.route("/c.jpg", fs.static(jpeg))
    routes = {host: hidden.port, "tracker.test": tracker.port, "redirected.test": tracker.port, "127.0.0.1": tracker.port}
    return {"host": host, "hidden": hidden, "tracker": tracker, "control": control, "routes": routes, "images": images}


@pytest.mark.parametrize("proxy_count", [1, 2])
def test_urls_found_through_tor_are_fetched_through_tor_and_never_resolved_locally(
    tmp_path: Path, onion_site: dict[str, Any], proxy_count: int, socks_servers: SocksFactory
) -> None:
    proxies = [socks_servers(routes=onion_site["routes"]) for _ in range(proxy_count)]
    page = f"http://{onion_site['host']}/index.html"
    control = f"http://localhost:{onion_site['control'].port}/c.jpg"  # proves the hook sees lookups
    settings = f"[tor]\nproxies = {json.dumps([proxy.address for proxy in proxies])}\nroute_all = false\n"

    records, looked_up, _ = crawl(tmp_path, [page, control], settings)

    found = {url: record for url, record in by_url(records).items() if record["page_url"] == page}
    assert set(found) == set(onion_site["images"]), found
    for record in found.values():
        assert (record["status"], record["via_tor"]) == ("ok", True), record
    assert found[f"http://{onion_site['host']}/r.jpg"]["final_url"] == "http://redirected.test/s.jpg"
    assert by_url(records)[control]["via_tor"] is False
    tracker, tunnels = onion_site["tracker"], sum((proxy.tunnels for proxy in proxies), start=type(proxies[0].tunnels)())
    assert tracker.connections > 0
    assert tracker.connections == tunnels["tracker.test"] + tunnels["redirected.test"] + tunnels["127.0.0.1"], (
        "the clearnet server was reached other than through the proxy"
    )
    connects = {(request.atyp, request.host) for proxy in proxies for request in proxy.requests}
    assert {(ATYP_DOMAIN, "tracker.test"), (ATYP_DOMAIN, "redirected.test"), (ATYP_IPV4, "127.0.0.1")} <= connects
    assert "localhost" in looked_up, "the DNS hook saw no lookup at all"
    leaked = [name for name in looked_up if name in ("tracker.test", "redirected.test") or name.endswith(".onion")]
    assert leaked == []


def test_found_through_tor_skip_records_instead_of_fetching(tmp_path: Path, onion_site: dict[str, Any]) -> None:
    with SocksServer(routes=onion_site["routes"]) as proxy:
        page = f"http://{onion_site['host']}/index.html"
        settings = f'[tor]\nproxies = ["{proxy.address}"]\n[safety]\nfound_through_tor = "skip"\n'
        records, looked_up, _ = crawl(tmp_path, [page], settings)

    found = by_url(records)
    for url in ("http://tracker.test/p.jpg", f"http://127.0.0.1:{onion_site['tracker'].port}/q.jpg", f"http://{onion_site['host']}/r.jpg"):
        assert (found[url]["status"], found[url]["error_kind"]) == ("error", "outside_tor"), found[url]
    assert found[f"http://{onion_site['host']}/own.jpg"]["status"] == "ok"  # onion stays onion
    assert onion_site["tracker"].connections == 0
    assert "tracker.test" not in looked_up and "redirected.test" not in looked_up


@pytest.mark.parametrize("tracker_is_public", [True, False])
def test_found_through_tor_direct_fetches_from_here_within_the_zones(
    tmp_path: Path, onion_site: dict[str, Any], tracker_is_public: bool
) -> None:
    tracker: fs.FaultyServer = onion_site["tracker"]
    ip_literal = f"http://127.0.0.1:{tracker.port}/q.jpg"
    seam = '["127.0.0.1/32"]' if tracker_is_public else "[]"
    with SocksServer(routes=onion_site["routes"]) as proxy:
        settings = f'[tor]\nproxies = ["{proxy.address}"]\n[safety]\nfound_through_tor = "direct"\npublic_networks = {seam}\n'
        records, _, _ = crawl(tmp_path, [f"http://{onion_site['host']}/index.html"], settings)

    record = by_url(records)[ip_literal]
    if tracker_is_public:  # fetched from this machine, not through the proxy
        assert (record["status"], record["via_tor"]) == ("ok", False), record
        assert proxy.tunnels["127.0.0.1"] == 0 and tracker.requests_for("/q.jpg")
    else:  # a page through Tor counts as public: loopback is more private
        assert record["error_kind"] == "blocked_address", record
        assert not tracker.requests_for("/q.jpg")


def test_a_clearnet_redirect_to_an_onion_goes_to_tor_not_to_local_dns(
    tmp_path: Path, onion_site: dict[str, Any]
) -> None:
    control: fs.FaultyServer = onion_site["control"]
    go = control.route("/go.jpg", fs.redirect(f"http://{onion_site['host']}/own.jpg"))
    with SocksServer(routes=onion_site["routes"]) as proxy:
        records, looked_up, _ = crawl(tmp_path, [go], f'[tor]\nproxies = ["{proxy.address}"]\n')

    [record] = records
    assert (record["status"], record["via_tor"], record["final_url"]) == ("ok", True, f"http://{onion_site['host']}/own.jpg")
    assert [request.host for request in proxy.requests] == [onion_site["host"]]
    assert not any(name.endswith(".onion") for name in looked_up)


# -- address zones ------------------------------------------------------------------


def zone_sites(servers: list[fs.FaultyServer], jpeg: bytes) -> tuple[fs.FaultyServer, fs.FaultyServer]:
    public, private = fs.FaultyServer(host="127.0.0.2"), fs.FaultyServer()
    servers += [public, private]
    inside = f"http://127.0.0.1:{private.port}"
    links = [f"{inside}/a.jpg", f"{public.url('/ok.jpg')}", f"{public.url('/hop.jpg')}", f"{public.url('/scheme.jpg')}"]
    public.route("/page.html", fs.html("".join(f'<img src="{src}">' for src in links).encode()))
    public.route("/ok.jpg", fs.static(jpeg))
    public.route("/hop.jpg", fs.redirect(f"{inside}/b.jpg"))
    public.route("/scheme.jpg", fs.redirect("file:///etc/passwd"))
    private.route("/page.html", fs.html(b'<img src="/c.jpg"><img src="/a.jpg">'))  # a.jpg: refused for the public page
    for path in ("/a.jpg", "/b.jpg", "/c.jpg", "/listed.jpg"):
        private.route(path, fs.static(jpeg))
    return public, private


def test_a_public_page_cannot_reach_the_private_zone_but_listed_urls_can(
    tmp_path: Path, servers: list[fs.FaultyServer], jpeg: bytes
) -> None:
    public, private = zone_sites(servers, jpeg)
    listed = [public.url("/page.html"), private.url("/page.html"), private.url("/listed.jpg")]

    records, _, _ = crawl(tmp_path, listed, '[safety]\npublic_networks = ["127.0.0.2/32"]\n')

    kinds = {
        (urlsplit(record["page_url"] or "listed:").netloc, str(record["url"]).rsplit("/", 1)[1]): (record["status"], record["error_kind"])
        for record in records
    }
    public_page, private_page = f"127.0.0.2:{public.port}", f"127.0.0.1:{private.port}"
    assert kinds == {
        (public_page, "a.jpg"): ("error", "blocked_address"),  # found on a public page, points inside
        (public_page, "ok.jpg"): ("ok", None),
        (public_page, "hop.jpg"): ("error", "blocked_address"),  # a redirect hop into the private zone
        (public_page, "scheme.jpg"): ("error", "bad_redirect"),
        (private_page, "c.jpg"): ("ok", None),  # found on a private page: same zone
        (private_page, "a.jpg"): ("ok", None),  # the same URL, not served from the public page's refusal
        ("", "listed.jpg"): ("ok", None),  # listed: the user's choice
    }
    refused = [r for r in records if r["error_kind"] == "blocked_address" and r["url"] == private.url("/a.jpg")]
    assert "a loopback address" in refused[0]["error"]
    assert {request.path for request in private.requests} == {"/page.html", "/c.jpg", "/a.jpg", "/listed.jpg"}


def test_allow_private_targets_fetches_everything(tmp_path: Path, servers: list[fs.FaultyServer], jpeg: bytes) -> None:
    public, private = zone_sites(servers, jpeg)
    settings = '[safety]\npublic_networks = ["127.0.0.2/32"]\nallow_private_targets = true\n'

    records, _, _ = crawl(tmp_path, [public.url("/page.html")], settings)

    found = by_url(records)
    assert found[private.url("/a.jpg")]["status"] == "ok"
    assert found[public.url("/ok.jpg")]["status"] == "ok"
    assert found[public.url("/hop.jpg")]["final_url"] == private.url("/b.jpg")
    assert found[public.url("/scheme.jpg")]["error_kind"] == "bad_redirect"  # never another scheme


# -- credentials ----------------------------------------------------------------------


def test_credentials_in_urls_reach_no_record_message_or_file_name(
    tmp_path: Path, servers: list[fs.FaultyServer], jpeg: bytes
) -> None:
    server = fs.FaultyServer()
    servers.append(server)
    server.route("/page.html", fs.html(b'<img src="/ok.jpg"><img src="/missing.jpg">'))
    server.route("/ok.jpg", fs.static(jpeg))
    secret = f"http://agent:s3cret@127.0.0.1:{server.port}"

    records, _, output = crawl(tmp_path, [f"{secret}/page.html", "ftp://agent:s3cret@127.0.0.1/x"], "")

    text = json.dumps(records) + output + " ".join(str(path) for path in (tmp_path / "out").rglob("*"))
    assert "s3cret" not in text and "agent" not in text
    found = by_url(records)
    assert found[server.url("/ok.jpg")]["status"] == "ok"
    assert found[server.url("/missing.jpg")]["error"] == f"HTTP 404 from {server.url('/missing.jpg')}"
    assert "ftp://127.0.0.1/x" in output  # the rejected line is reported, without its password


# -- TLS ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "verify_onion_tls", "expected"),
    [("onion", True, "tls"), ("onion", False, "unverified"), ("tls.test", False, "tls")],
)
def test_certificates_are_verified_through_tor_unless_the_user_exempts_onion_services(
    tmp_path: Path, servers: list[fs.FaultyServer], jpeg: bytes, host: str, verify_onion_tls: bool, expected: str
) -> None:
    server = fs.FaultyServer(tls=fs.self_signed_context(tmp_path))
    servers.append(server)
    server.route("/a.jpg", fs.static(jpeg))
    name = onion("tls") if host == "onion" else host
    with SocksServer(routes={name: server.port}) as proxy:
        overrides = {
            "tor.proxies": [proxy.address], "tor.route_all": True, "retries.attempts": 1,
            "safety.verify_onion_tls": verify_onion_tls,
        }

        async def fetch() -> ImageResponse | FetchError:
            async with Fetcher(load_settings(None, overrides)) as fetcher:
                try:
                    return await fetcher.fetch_image(f"https://{name}/a.jpg")
                except FetchError as exc:
                    return exc

        result = asyncio.run(fetch())
        assert [(request.host, request.port) for request in proxy.requests] == [(name, 443)]

    if expected == "tls":
        assert isinstance(result, FetchError) and result.kind == "tls", result
    else:
        assert isinstance(result, ImageResponse), result
        assert (result.tls_verified, result.via_tor, result.data) == (False, True, jpeg[:10240])
