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
          └── TransientError   worth retrying (connect, timeout, 429, 5xx)

``FetchError.kind`` is a short stable token (``http_404``, ``timeout``,
``not_image`` ...) that the summary groups by and consumers can match on.
"""

from __future__ import annotations


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


def internal_error(exc: Exception) -> FetchError:
    """A bug met while handling one URL, as an error its record can carry."""
    return FetchError("internal", f"internal error, please report: {type(exc).__name__}: {exc}")


# Error kinds worth another try in a later run (resume refetches their pages).
RETRYABLE_KINDS = frozenset(
    {"connect", "timeout", "proxy", "network", "http_429", "http_5xx", "internal", "host_unreachable"}
)
