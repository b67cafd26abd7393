"""Address zones and the direct network backend that enforces them, on real sockets.

Loopback plays "the private zone"; ``public_networks = ["127.0.0.2/32"]``
(the documented test seam) makes 127.0.0.2 a public address, so a server
bound there is a public server. The resolver is injected to play a DNS
server that rebinds a name from a public address to a private one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpcore
import pytest

from crawler.errors import FetchError
from crawler.net.connect import DirectBackend
from crawler.net.fetch import Fetcher
from crawler.settings import load_settings
from crawler.zones import LISTED, Origin, Zone, Zones
from tests.support import faulty_server as fs

PUBLIC_SEAM = ["127.0.0.2/32"]


@pytest.mark.parametrize(
    ("address", "zone"),
    [
        ("93.184.216.34", Zone.PUBLIC),
        ("2606:4700::1111", Zone.PUBLIC),
        ("10.1.2.3", Zone.PRIVATE),
        ("172.16.0.1", Zone.PRIVATE),
        ("192.168.1.1", Zone.PRIVATE),
        ("100.64.0.1", Zone.PRIVATE),  # carrier-grade NAT
        ("fd00::1", Zone.PRIVATE),  # unique-local
        ("224.0.0.1", Zone.PRIVATE),  # multicast: special-purpose
        ("169.254.169.254", Zone.LINK_LOCAL),  # cloud metadata
        ("fe80::1", Zone.LINK_LOCAL),
        ("127.0.0.1", Zone.LOOPBACK),
        ("::1", Zone.LOOPBACK),
        ("::ffff:127.0.0.1", Zone.LOOPBACK),  # IPv4-mapped
        ("0.0.0.0", Zone.LOOPBACK),  # Linux connects to itself
        ("[::]", Zone.LOOPBACK),
    ],
)
def test_addresses_fall_in_their_zones(address: str, zone: Zone) -> None:
    assert Zones().of(address) == zone


def test_public_networks_override_the_zone() -> None:
    zones = Zones(PUBLIC_SEAM + ["10.8.0.0/16"])
    assert zones.of("127.0.0.2") == Zone.PUBLIC
    assert zones.of("10.8.3.4") == Zone.PUBLIC
    assert zones.of("127.0.0.1") == Zone.LOOPBACK
    assert zones.of("10.9.0.1") == Zone.PRIVATE


def test_origin_of_found_urls() -> None:
    page = LISTED.found_on(through_tor=False, zone=Zone.PUBLIC, allow_private=False)
    assert page == Origin(through_tor=False, limit=Zone.PUBLIC)
    assert page.found_on(through_tor=True, zone=Zone.PUBLIC, allow_private=False).through_tor
    assert Origin(through_tor=True).found_on(False, Zone.LOOPBACK, allow_private=True) == Origin(True, None)


@pytest.fixture
def corpus_jpeg(corpus: Path) -> bytes:
    return (corpus / "jpeg/FujiFilm_FinePixS1Pro_1.jpg").read_bytes()


@pytest.fixture
def public_server() -> Iterator[fs.FaultyServer]:
    server = fs.FaultyServer(host="127.0.0.2")
    yield server
    server.stop()


def test_a_name_rebinding_from_public_to_private_is_refused(public_server: fs.FaultyServer) -> None:
    answers = iter([["127.0.0.2"], ["127.0.0.1"]])  # public first, private on the next lookup
    asked: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return next(answers)

    async def connect_twice() -> FetchError:
        backend = DirectBackend(Zones(PUBLIC_SEAM), Zone.PUBLIC, rebinding)
        stream = await backend.connect_tcp("rebind.test", public_server.port, timeout=5)
        assert stream.get_extra_info("server_addr")[0] == "127.0.0.2"  # connected to the checked address
        await stream.aclose()
        with pytest.raises(FetchError) as caught:
            await backend.connect_tcp("rebind.test", public_server.port, timeout=5)
        return caught.value

    error = asyncio.run(connect_twice())

    assert asked == ["rebind.test", "rebind.test"]
    assert error.kind == "blocked_address"
    assert error.message.startswith("refused to connect to rebind.test (127.0.0.1): a loopback address")
    deadline = time.monotonic() + 5  # the server's thread counts the accepted connection on its own time
    while public_server.connections < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert public_server.connections == 1


def test_a_name_with_a_public_and_a_private_address_connects_only_to_the_public_one(public_server: fs.FaultyServer) -> None:
    async def both(host: str, port: int) -> list[str]:
        return ["127.0.0.1", "127.0.0.2"]

    async def connect() -> str:
        backend = DirectBackend(Zones(PUBLIC_SEAM), Zone.PUBLIC, both)
        stream = await backend.connect_tcp("both.test", public_server.port, timeout=5)
        address = str(stream.get_extra_info("server_addr")[0])
        await stream.aclose()
        return address

    assert asyncio.run(connect()) == "127.0.0.2"


def test_an_unresolvable_name_is_a_connect_error() -> None:
    async def nothing(host: str, port: int) -> list[str]:
        raise OSError(-2, "Name or service not known")

    backend = DirectBackend(Zones(), None, nothing)
    with pytest.raises(httpcore.ConnectError, match="cannot resolve nowhere.test"):
        asyncio.run(backend.connect_tcp("nowhere.test", 80, timeout=5))


def test_a_found_url_is_refused_before_any_connection_and_a_listed_one_is_fetched(corpus_jpeg: bytes) -> None:
    private = fs.FaultyServer()  # on 127.0.0.1: more private than a public page
    try:
        url = private.route("/a.jpg", fs.static(corpus_jpeg))
        settings = load_settings(None, {"safety.public_networks": PUBLIC_SEAM, "retries.attempts": 1})

        async def fetch(origin: Origin) -> str:
            async with Fetcher(settings) as fetcher:
                try:
                    return (await fetcher.fetch_image(url, origin)).url
                except FetchError as exc:
                    return exc.kind

        assert asyncio.run(fetch(Origin(limit=Zone.PUBLIC))) == "blocked_address"
        assert private.connections == 0
        assert asyncio.run(fetch(LISTED)) == url
        assert asyncio.run(fetch(Origin(limit=Zone.LOOPBACK))) == url  # found on a loopback page: same zone
    finally:
        private.stop()
