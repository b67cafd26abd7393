"""Which SOCKS proxy and which credentials a host's requests go through.

Pure decisions, no I/O. A ``.onion`` host always goes through Tor; other hosts
only when ``tor.route_all`` is set or the URL was found through Tor
(``safety.found_through_tor``). Each host sticks to one proxy, chosen by a
hash of its name, so that its circuits and connections stay on one Tor
instance; each host gets its own SOCKS username, so Tor (IsolateSOCKSAuth, on
by default) builds it a circuit of its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """How to reach one host: directly (proxy None) or through a SOCKS5 proxy."""

    proxy: str | None = None  # HOST:PORT of the SOCKS5 proxy
    username: str | None = None
    password: str | None = None


def is_onion(host: str) -> bool:
    return host.rstrip(".").lower().endswith(".onion")


def route_for(host: str, proxies: list[str], route_all: bool, through_tor: bool = False) -> Route:
    """The route for ``host`` given the configured proxies; ``through_tor`` keeps a URL found through Tor in it."""
    host = host.rstrip(".").lower()
    if not (route_all or through_tor or is_onion(host)):
        return Route()
    digest = hashlib.sha256(host.encode()).hexdigest()
    proxy = proxies[int(digest[:8], 16) % len(proxies)]
    return Route(proxy=proxy, username=f"crawler-{digest[:16]}", password=digest[16:32])
