"""Address zones, and where a URL was found. Pure: no I/O.

A page may be run by the people a user investigates; the URLs it holds must
not turn the crawler against the user's own network. Every address falls in
a zone, from public to loopback; a URL found on a page may only connect to
addresses no more private than the address the page itself came from. Listed
URLs are the user's choice and unrestricted.

``public_networks`` (``safety.public_networks``) marks networks as public:
address space of a VPN the user treats as the internet, and the tests' seam
(127.0.0.2/32 plays a public server on loopback).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Zone(IntEnum):
    """How private an address is; a higher value is more private."""

    PUBLIC = 0
    PRIVATE = 1  # RFC 1918, unique-local IPv6, CGNAT and other special-purpose ranges
    LINK_LOCAL = 2  # 169.254.0.0/16 (cloud metadata), fe80::/10
    LOOPBACK = 3  # 127.0.0.0/8, ::1, and the unspecified address, which Linux connects to itself

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class Zones:
    """Classifies addresses, with the user's ``public_networks`` taken as public."""

    def __init__(self, public_networks: Iterable[str] = ()) -> None:
        self._public = [ipaddress.ip_network(network, strict=False) for network in public_networks]

    def of(self, address: str | Address) -> Zone:
        ip = ipaddress.ip_address(address.strip("[]") if isinstance(address, str) else address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip.version == network.version and ip in network for network in self._public):
            return Zone.PUBLIC
        if ip.is_loopback or ip.is_unspecified:
            return Zone.LOOPBACK
        if ip.is_link_local:
            return Zone.LINK_LOCAL
        if ip.is_global and not ip.is_multicast:
            return Zone.PUBLIC
        return Zone.PRIVATE


@dataclass(frozen=True)
class Origin:
    """Where a URL came from, which decides its route and what it may reach.

    ``through_tor``: found on a page fetched through Tor, or reached by a
    redirect from a URL fetched through Tor; it must not leave Tor.
    ``limit``: the most private zone it may connect to; None for any.
    """

    through_tor: bool = False
    limit: Zone | None = None

    def found_on(self, through_tor: bool, zone: Zone, allow_private: bool) -> Origin:
        """The origin of a URL found on (or redirected to from) a page that came from ``zone``."""
        return Origin(through_tor=self.through_tor or through_tor, limit=None if allow_private else zone)


LISTED = Origin()  # a URL the user listed: the user's choice, fetched wherever it is
