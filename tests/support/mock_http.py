"""HTTP answered in-process, for unit tests of HTTP edge cases: routes behind an ``httpx.MockTransport``.

The Fetcher takes a ``transport=``; tests inject this one instead of patching
httpx (as respx does), so the code under test builds its clients and sends
its requests exactly as in production and only the network is replaced.
Each route records the requests it got, so a test can check headers and
count attempts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Handler = Callable[[httpx.Request], httpx.Response]
Answer = httpx.Response | BaseException | Handler


@dataclass
class Route:
    """The answers of one URL (pattern), given in order, the last one repeating; and the requests it got."""

    pattern: re.Pattern[str]
    answers: list[Answer]
    requests: list[httpx.Request] = field(default_factory=list)

    @property
    def call_count(self) -> int:
        return len(self.requests)

    def answer(self, *answers: Answer) -> Route:
        """Answer the next requests with these instead (a site that changed between two runs)."""
        self.answers = list(answers)
        return self

    def respond(self, request: httpx.Request) -> httpx.Response:
        answer = self.answers[min(len(self.requests), len(self.answers) - 1)]
        self.requests.append(request)
        if isinstance(answer, BaseException):
            raise answer
        return _fresh(answer if isinstance(answer, httpx.Response) else answer(request))


class MockSite:
    """URL -> answers, served through :attr:`transport`. A request no route matches fails the test."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self.transport = httpx.MockTransport(self._handle)

    def route(self, url: str, *answers: Answer, regex: bool = False) -> Route:
        """Answer GETs of ``url`` (a regular expression over the whole URL if ``regex``) with ``answers``."""
        assert answers, "a route needs an answer"
        route = Route(re.compile(url if regex else re.escape(url)), list(answers))
        self._routes.append(route)
        return route

    def _handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        for route in self._routes:
            if route.pattern.fullmatch(url):
                return route.respond(request)
        raise AssertionError(f"no route for {request.method} {url}")


def _fresh(template: httpx.Response) -> httpx.Response:
    """A new response like ``template``, its body not yet read.

    ``httpx.Response(content=...)`` reads its body at once, and the Fetcher
    reads raw bytes, which a read response no longer gives: the body goes
    into a new stream (which also lets one answer serve many requests).
    """
    try:
        content = template.content
    except httpx.ResponseNotRead:  # a streaming body (an async generator): served once, as is
        return template
    return httpx.Response(template.status_code, headers=template.headers, stream=httpx.ByteStream(content))
