"""The crawler's small exception tree.

Library code raises these; the CLI maps them to exit codes, and the pipeline
turns every :class:`FetchError` into a record with ``status="error"``::

    CrawlerError
     ├── SettingsError      bad settings file or value (exit code 2)
     ├── InputError         unreadable URL list (exit code 2)
     ├── OutputError        the output folder cannot be written (exit code 2 before a
     │                      run, 1 when a write fails mid-run: disk full)
     ├── WorkerFailed       a crawl's worker process died (exit code 1)
     └── FetchError         one URL could not be fetched; ``kind`` names why
          └── TransientError   worth retrying now (the kinds RETRY marks so)

``FetchError.kind`` is a short stable token (``http_404``, ``timeout``,
``not_image`` ...) that the summary groups by and consumers can match on.
Whether a kind is worth another attempt now (the fetch layer's retries) and
in a later run (resume) is data, in one table: :data:`RETRY`.
"""

from __future__ import annotations

from dataclasses import dataclass


class CrawlerError(Exception):
    """Base class of every error the crawler raises on purpose."""


class SettingsError(CrawlerError):
    """The settings file or a setting's value is invalid."""


class InputError(CrawlerError):
    """The URL list cannot be read."""


class OutputError(CrawlerError):
    """The output folder or one of its files cannot be written."""


class WorkerFailed(CrawlerError):
    """A worker process ended without finishing its share (killed, out of memory...)."""


class FetchError(CrawlerError):
    """A URL could not be fetched or is not what it should be."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class TransientError(FetchError):
    """A failure that may go away: retried by the fetch layer's policy."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(kind, message)
        self.retry_after = retry_after


def detail(exc: BaseException) -> str:
    """An exception's message, or its type's name when it has none (httpx's ReadError often has none)."""
    return str(exc) or type(exc).__name__


def internal_error(exc: Exception) -> FetchError:
    """A bug met while handling one URL, as an error its record can carry."""
    return FetchError("internal", f"internal error, please report: {type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class Retry:
    """Whether an error of one kind may go away: ``now`` within this run, ``later`` in the next run."""

    now: bool
    later: bool


_NEVER = Retry(now=False, later=False)
_BOTH = Retry(now=True, later=True)
_LATER = Retry(now=False, later=True)

# Kinds missing here are never retried (http_404, tls, blocked_address ...).
# SOCKS and onion kinds: see crawler/net/socks.py for what each reply means.
RETRY: dict[str, Retry] = {
    "connect": _BOTH,
    "timeout": _BOTH,
    "proxy": _BOTH,  # the Tor proxy is down or not SOCKS: it may be restarted
    "network": _BOTH,
    "http_429": _BOTH,
    "http_5xx": _BOTH,
    "host_unreachable": _LATER,  # given up for this run after failures in a row (crawler.net.hosts)
    "internal": _LATER,  # a bug: the same attempt would meet it again; a fixed version may not
    "socks_general_failure": _BOTH,
    "socks_not_allowed": _LATER,  # Tor's rules refused it: the user may change them
    "socks_network_unreachable": _BOTH,
    "socks_host_unreachable": _BOTH,
    "socks_connection_refused": _LATER,  # the service answered: nothing listens on that port now
    "socks_ttl_expired": _BOTH,
    "socks_command_not_supported": _NEVER,  # the proxy is no Tor SocksPort
    "socks_address_not_supported": _NEVER,
    "onion_descriptor_not_found": _LATER,  # Tor asked the directories already; the service may publish later
    "onion_descriptor_invalid": _LATER,
    "onion_intro_failed": _BOTH,
    "onion_rendezvous_failed": _BOTH,
    "onion_client_auth_missing": _LATER,  # after the user adds the key
    "onion_client_auth_wrong": _LATER,
    "onion_address_invalid": _NEVER,  # a typo: no retry will fix the checksum
    "onion_intro_timeout": _BOTH,
}

# Error kinds worth another try in a later run (resume refetches their pages).
RETRYABLE_KINDS = frozenset(kind for kind, retry in RETRY.items() if retry.later)


def retries_now(kind: str) -> bool:
    """Whether another attempt in this run may succeed where one of ``kind`` failed."""
    return RETRY.get(kind, _NEVER).now


def fetch_error(kind: str, message: str) -> FetchError:
    """The error of ``kind``: a :class:`TransientError` when the table says retrying now may help."""
    return TransientError(kind, message) if retries_now(kind) else FetchError(kind, message)
