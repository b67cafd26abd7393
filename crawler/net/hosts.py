"""What this run has learned about each host: not heard from yet, answering, or unreachable.

A host that has answered once (any HTTP status) is *alive*. One that has not
is *unknown*; its requests are probes, which the fetcher keeps apart from the
overall request limit so that a list full of dead hosts cannot fill it. A run
of ``dead_after`` connection failures or timeouts in a row, with no answer in
between, makes a host *unreachable* for the rest of the run: its remaining
requests fail at once with ``host_unreachable``, naming the first failure,
instead of each waiting out its own timeouts. A rerun tries it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HostState = Literal["unknown", "alive", "unreachable"]

# Failures that say the host itself cannot be reached (as opposed to one URL failing,
# or the Tor proxy being down: "proxy" is not the host's fault).
UNREACHABLE_KINDS = frozenset({
    "connect", "timeout", "network",
    "socks_general_failure", "socks_network_unreachable", "socks_host_unreachable", "socks_connection_refused",
    "socks_ttl_expired", "onion_descriptor_not_found", "onion_intro_failed", "onion_rendezvous_failed",
    "onion_intro_timeout",
})


@dataclass
class _Host:
    state: HostState = "unknown"
    failures: int = 0  # in a row, since the last answer
    first_failure: str | None = None


class HostHealth:
    """Per-host state for one run; ``dead_after`` 0 never gives up on a host."""

    def __init__(self, dead_after: int) -> None:
        self.dead_after = dead_after
        self._hosts: dict[str, _Host] = {}

    def state(self, host: str) -> HostState:
        known = self._hosts.get(host)
        return known.state if known is not None else "unknown"

    def answered(self, host: str) -> None:
        """The host sent an HTTP answer: it is alive, whatever failed before."""
        known = self._hosts.setdefault(host, _Host())
        if known.state != "unreachable":
            known.state, known.failures, known.first_failure = "alive", 0, None

    def failed(self, host: str, kind: str, message: str) -> None:
        """A request to the host failed; a failure of the host itself counts towards giving up on it."""
        if kind not in UNREACHABLE_KINDS:
            return
        known = self._hosts.setdefault(host, _Host())
        known.failures += 1
        known.first_failure = known.first_failure or message
        if self.dead_after and known.failures >= self.dead_after:
            known.state = "unreachable"

    def why_unreachable(self, host: str) -> str:
        known = self._hosts.get(host)
        first = known.first_failure if known is not None else None
        count = known.failures if known is not None else 0
        return f"{host} is unreachable: {count} connection failures or timeouts in a row, the first: {first}"
