from __future__ import annotations

from crawler.net.tor import Route, is_onion, route_for

ONION = "a" * 56 + ".onion"
PROXIES = ["127.0.0.1:9050", "127.0.0.1:9150", "127.0.0.1:9250"]


def test_clearnet_goes_direct_unless_route_all_or_found_through_tor() -> None:
    assert route_for("example.com", PROXIES, route_all=False) == Route()
    assert route_for("example.com", PROXIES, route_all=True).proxy in PROXIES
    assert route_for("example.com", PROXIES, route_all=False, through_tor=True) == route_for("example.com", PROXIES, True)


def test_onion_host_sticks_to_one_proxy_with_its_own_credentials() -> None:
    first = route_for(ONION, PROXIES, route_all=False)
    assert first == route_for(ONION.upper() + ".", PROXIES, route_all=False)
    other = route_for("b" * 56 + ".onion", PROXIES, route_all=False)
    assert first.username != other.username
    assert (first.username, first.password) != (None, None) and first.password != other.password


def test_hosts_spread_over_the_proxies() -> None:
    used = {route_for(f"{i:056d}.onion", PROXIES, route_all=False).proxy for i in range(60)}
    assert used == set(PROXIES)


def test_is_onion() -> None:
    assert is_onion(ONION) and is_onion("sub." + ONION + ".")
    assert not is_onion("onion.example.com")
