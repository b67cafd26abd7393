"""The retry policy (tenacity): which errors are tried again at once, how often, and after how long.

What is worth another attempt now is the error kind table's call
(``crawler.errors.RETRY``); how many attempts and the backoff are the
``retries`` settings. A server's ``Retry-After`` is honoured as the wait, and
one longer than ``retries.max_retry_after`` ends the attempts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from crawler.errors import FetchError, TransientError, retries_now
from crawler.settings import RetrySettings

T = TypeVar("T")


async def with_retries(policy: RetrySettings, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` (a coroutine function) under the retry policy."""

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= policy.attempts:
            return True
        retry_after = _retry_after(state)
        return retry_after is not None and retry_after > policy.max_retry_after

    def wait(state: RetryCallState) -> float:
        retry_after = _retry_after(state)
        if retry_after is not None:
            return float(retry_after)
        return float(min(policy.max_backoff, policy.backoff * 2 ** (state.attempt_number - 1)))

    retrying = AsyncRetrying(retry=retry_if_exception(_retry_now), stop=stop, wait=wait, reraise=True)
    return await retrying(attempt)


def _retry_now(exc: BaseException) -> bool:
    return isinstance(exc, FetchError) and retries_now(exc.kind)


def _retry_after(state: RetryCallState) -> float | None:
    """The failed attempt's ``Retry-After`` (seconds), if its error carries one."""
    exc = state.outcome.exception() if state.outcome else None
    return exc.retry_after if isinstance(exc, TransientError) else None
