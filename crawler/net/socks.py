"""SOCKS5 messages (RFC 1928, RFC 1929) and what Tor's replies mean. Pure: no I/O.

``crawler.net.connect`` speaks the protocol with these bytes; keeping the
messages apart makes every byte testable without a socket. The host name is
always sent as a name (ATYP 0x03), so it is resolved by Tor, never locally;
only an IP literal goes as an address.

Tor answers a failed CONNECT with a reply code: the RFC 1928 codes, and with
the SocksPort flag ExtendedErrors (or for onion addresses always, since Tor
0.4.3) its own codes 0xF0-0xF7 that say which step of reaching an onion
service failed. Each code maps to its own ``error_kind`` and to a message a
user can act on; whether a kind is worth a retry is in
``crawler.errors.RETRY``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

VERSION = 5
NO_AUTH, USER_PASS, NO_ACCEPTABLE = 0x00, 0x02, 0xFF
_CONNECT = 0x01
ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 0x01, 0x03, 0x04
SUCCEEDED = 0x00


class SocksProtocolError(Exception):
    """The other side does not speak SOCKS5 as expected (not Tor, or a broken proxy)."""


@dataclass(frozen=True)
class Reply:
    kind: str
    message: str


REPLIES: dict[int, Reply] = {
    0x01: Reply("socks_general_failure", "Tor could not open the connection (general failure): is Tor connected to the network?"),
    0x02: Reply("socks_not_allowed", "Tor's rules do not allow this connection (a reject rule, SafeSocks or the exit policy)"),
    0x03: Reply("socks_network_unreachable", "Tor could not reach the network of this address: is Tor connected to the network?"),
    0x04: Reply("socks_host_unreachable", "Tor could not reach the host: the service may be offline, or Tor not connected"),
    0x05: Reply("socks_connection_refused", "the host refused the connection: nothing listens on that port"),
    0x06: Reply("socks_ttl_expired", "Tor could not reach the service in time: is Tor connected to the network?"),
    0x07: Reply("socks_command_not_supported", "the proxy does not support CONNECT: is it Tor's SocksPort?"),
    0x08: Reply("socks_address_not_supported", "Tor does not connect to this kind of address (see the SocksPort's flags)"),
    0xF0: Reply("onion_descriptor_not_found", "the onion service's descriptor was not found: it is offline, or the address is wrong"),
    0xF1: Reply("onion_descriptor_invalid", "the onion service's descriptor could not be decoded or verified"),
    0xF2: Reply("onion_intro_failed", "every introduction point of the onion service failed: it may be offline or overloaded"),
    0xF3: Reply("onion_rendezvous_failed", "the rendezvous with the onion service failed: try again later"),
    0xF4: Reply("onion_client_auth_missing", "the onion service needs client authorization: add its key to Tor's ClientOnionAuthDir"),
    0xF5: Reply("onion_client_auth_wrong", "the onion service refused the client authorization key: check it in ClientOnionAuthDir"),
    0xF6: Reply("onion_address_invalid", "the onion address is invalid (bad checksum or version): check it for a typo"),
    0xF7: Reply("onion_intro_timeout", "the introduction to the onion service timed out: it may be overloaded; try again later"),
}


def reply_for(code: int) -> Reply:
    """What a non-zero reply code means; an unknown code is a general failure, with its number."""
    known = REPLIES.get(code)
    if known is not None:
        return known
    return Reply("socks_general_failure", f"Tor answered with the unknown SOCKS reply code 0x{code:02X}")


def greeting(authenticate: bool) -> bytes:
    """Method selection: offer only username/password when there are credentials (Tor's circuit isolation)."""
    return bytes([VERSION, 1, USER_PASS if authenticate else NO_AUTH])


def check_method(answer: bytes, authenticate: bool) -> None:
    """The proxy's choice of method; raises unless it is the one offered."""
    if len(answer) != 2 or answer[0] != VERSION:
        raise SocksProtocolError(f"not a SOCKS5 answer: {answer[:16]!r}")
    wanted = USER_PASS if authenticate else NO_AUTH
    if answer[1] != wanted:
        raise SocksProtocolError(f"the proxy chose authentication method 0x{answer[1]:02X}, not 0x{wanted:02X}")


def auth_request(username: str, password: str) -> bytes:
    """RFC 1929: VER ULEN UNAME PLEN PASSWD."""
    user, secret = username.encode(), password.encode()
    if not (0 < len(user) < 256 and 0 < len(secret) < 256):
        raise ValueError("SOCKS5 username and password must be 1 to 255 bytes")
    return bytes([1, len(user)]) + user + bytes([len(secret)]) + secret


def check_auth(answer: bytes) -> None:
    if len(answer) != 2 or answer[0] != 1:
        raise SocksProtocolError(f"not a SOCKS5 authentication answer: {answer[:16]!r}")
    if answer[1] != 0:
        raise SocksProtocolError("the proxy refused the username and password")


def connect_request(host: str, port: int) -> bytes:
    """VER CMD RSV ATYP DST.ADDR DST.PORT; a name goes as a name, for the proxy to resolve."""
    bare = host.strip("[]")
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        name = host.rstrip(".").encode("ascii")
        if not 0 < len(name) < 256:
            raise ValueError(f"host name of {len(name)} bytes cannot be sent over SOCKS5") from None
        target = bytes([ATYP_DOMAIN, len(name)]) + name
    else:
        target = bytes([ATYP_IPV4 if address.version == 4 else ATYP_IPV6]) + address.packed
    return bytes([VERSION, _CONNECT, 0]) + target + port.to_bytes(2, "big")


def reply_head(head: bytes) -> tuple[int, int]:
    """From the first 5 bytes of a CONNECT reply: (reply code, bytes of the reply still to read)."""
    if len(head) != 5 or head[0] != VERSION:
        raise SocksProtocolError(f"not a SOCKS5 reply: {head[:16]!r}")
    code, atyp = head[1], head[3]
    if code != SUCCEEDED and atyp not in (ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6):
        return code, 0  # some proxies send a short reply with an error: nothing more is needed
    if atyp == ATYP_IPV4:
        return code, 4 - 1 + 2
    if atyp == ATYP_IPV6:
        return code, 16 - 1 + 2
    if atyp == ATYP_DOMAIN:
        return code, head[4] + 2
    raise SocksProtocolError(f"unknown address type 0x{atyp:02X} in the SOCKS5 reply")
