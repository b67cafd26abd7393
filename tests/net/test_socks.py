"""SOCKS5 as the crawler speaks it: the pure messages, and every reply code of a real proxy.

The recording SOCKS5 server (``tests/support/socks_server.py``) answers each CONNECT
with a chosen reply code; the fetch layer must turn each code into its own
``error_kind``, a message a user can act on, and the retry decision of
``crawler.errors.RETRY`` (attempts = 2: two CONNECTs for a kind worth
retrying now, one for the others). A proxy that stalls is bounded by
``timeouts.onion_connect``, not by Tor's own 120 s.
"""

from __future__ import annotations

import pytest

from crawler.errors import RETRY, RETRYABLE_KINDS, TransientError
from crawler.net import socks
from tests.support.fetching import fetch_error
from tests.support.socks_server import ATYP_DOMAIN, SocksFactory, onion

KINDS = {  # exactly the kinds the issue names (a helper writing real-Tor tests expects them)
    0x01: "socks_general_failure", 0x02: "socks_not_allowed", 0x03: "socks_network_unreachable",
    0x04: "socks_host_unreachable", 0x05: "socks_connection_refused", 0x06: "socks_ttl_expired",
    0x07: "socks_command_not_supported", 0x08: "socks_address_not_supported",
    0xF0: "onion_descriptor_not_found", 0xF1: "onion_descriptor_invalid", 0xF2: "onion_intro_failed",
    0xF3: "onion_rendezvous_failed", 0xF4: "onion_client_auth_missing", 0xF5: "onion_client_auth_wrong",
    0xF6: "onion_address_invalid", 0xF7: "onion_intro_timeout",
}
NOT_NOW = {  # retrying at once cannot help
    "socks_not_allowed", "socks_connection_refused", "socks_command_not_supported", "socks_address_not_supported",
    "onion_descriptor_invalid", "onion_client_auth_missing", "onion_client_auth_wrong", "onion_address_invalid",
    "onion_descriptor_not_found",  # Tor has asked the directories already; a later run may find it published
}
NEVER_LATER = {"socks_command_not_supported", "socks_address_not_supported", "onion_address_invalid"}


# -- the pure messages ------------------------------------------------------------


def test_a_name_is_sent_as_a_name_and_an_address_as_an_address() -> None:
    assert socks.connect_request("abc.onion", 80) == b"\x05\x01\x00\x03\x09abc.onion\x00\x50"
    assert socks.connect_request("127.0.0.1", 443) == b"\x05\x01\x00\x01\x7f\x00\x00\x01\x01\xbb"
    assert socks.connect_request("[::1]", 80)[:4] == b"\x05\x01\x00\x04"
    with pytest.raises(ValueError):
        socks.connect_request("a" * 256, 80)


def test_greeting_offers_only_the_method_that_isolates_circuits() -> None:
    assert socks.greeting(authenticate=True) == b"\x05\x01\x02"
    assert socks.auth_request("user", "pw") == b"\x01\x04user\x02pw"
    with pytest.raises(socks.SocksProtocolError):
        socks.check_method(b"\x05\x00", authenticate=True)  # a proxy ignoring the credentials
    with pytest.raises(socks.SocksProtocolError):
        socks.check_method(b"HT", authenticate=True)  # an HTTP server


@pytest.mark.parametrize(
    ("head", "expected"),
    [(b"\x05\x00\x00\x01\x00", (0, 5)), (b"\x05\xf6\x00\x04\x00", (0xF6, 17)), (b"\x05\x00\x00\x03\x07", (0, 9))],
)
def test_reply_head_says_how_much_is_left(head: bytes, expected: tuple[int, int]) -> None:
    assert socks.reply_head(head) == expected


def test_every_reply_code_has_its_kind_and_a_retry_decision() -> None:
    assert {code: reply.kind for code, reply in socks.REPLIES.items()} == KINDS
    assert set(KINDS.values()) <= set(RETRY)
    assert {kind for kind in KINDS.values() if not RETRY[kind].now} == NOT_NOW
    assert {kind for kind in KINDS.values() if kind not in RETRYABLE_KINDS} == NEVER_LATER
    assert socks.reply_for(0x42).kind == "socks_general_failure" and "0x42" in socks.reply_for(0x42).message


# -- a real proxy answering with each code ------------------------------------------


@pytest.mark.parametrize("code", sorted(KINDS))
def test_each_reply_code_is_its_own_error_kind_with_its_retry_decision(socks_servers: SocksFactory, code: int) -> None:
    proxy = socks_servers(mode="refuse", reply=code)
    host = onion("refused")

    error, _ = fetch_error(f"http://{host}/a.jpg", **{"tor.proxies": [proxy.address], "retries.attempts": 2})

    kind = KINDS[code]
    assert error.kind == kind, error.message
    assert error.message == f"{socks.REPLIES[code].message} ({host}: SOCKS reply 0x{code:02X} from {proxy.address})"
    assert isinstance(error, TransientError) == (kind not in NOT_NOW)
    assert len(proxy.requests) == (1 if kind in NOT_NOW else 2), "retried against the table's decision"
    assert all((request.atyp, request.host) == (ATYP_DOMAIN, host) for request in proxy.requests)


def test_onion_connect_bounds_the_socks_handshake(socks_servers: SocksFactory) -> None:
    silent = socks_servers(mode="stall")  # a Tor that cannot reach its network: accepts, never answers
    slow = {"timeouts.onion_total": 30.0, "timeouts.onion_read": 30.0}

    error, elapsed = fetch_error(
        f"http://{onion('slow')}/a.jpg", **slow, **{"timeouts.onion_connect": 0.3, "tor.proxies": [silent.address], "retries.attempts": 1}
    )

    assert error.kind == "timeout"
    assert "within 0.3 s (timeouts.onion_connect): is Tor connected to the network?" in error.message
    assert 0.3 <= elapsed < 2.0, elapsed
