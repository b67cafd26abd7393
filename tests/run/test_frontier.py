"""The frontier hands out a listed URL only when its host has room, hosts in turn."""

from __future__ import annotations

import asyncio

import pytest

from crawler.net.hosts import HostHealth, HostState
from crawler.run.frontier import Frontier, Lease


def urls(host: str, count: int) -> list[str]:
    return [f"http://{host}/{n}" for n in range(count)]


def take_all_ready(frontier: Frontier) -> list[Lease]:
    """Every lease the frontier hands out without waiting."""

    async def go() -> list[Lease]:
        taken: list[Lease] = []
        while True:
            try:
                lease = await asyncio.wait_for(frontier.take(), timeout=0.05)
            except TimeoutError:
                return taken
            if lease is None:
                return taken
            taken.append(lease)

    return asyncio.run(go())


def states(**known: HostState) -> dict[str, HostState]:
    return {host.replace("_", "."): state for host, state in known.items()}


def frontier_of(url_list: list[str], per_host: int, live: int, probing: int, known: dict[str, HostState]) -> Frontier:
    return Frontier(url_list, per_host, live, probing, lambda host: known.get(host, "unknown"))


def test_hosts_take_turns_and_each_stays_within_per_host() -> None:
    known = states(a_test="alive", b_test="alive")
    frontier = frontier_of(urls("a.test", 5) + urls("b.test", 5), per_host=2, live=10, probing=10, known=known)
    taken = take_all_ready(frontier)
    assert [lease.host for lease in taken] == ["a.test", "b.test", "a.test", "b.test"]
    assert frontier.waiting == 6


def test_a_released_url_makes_room_for_the_next_of_its_host() -> None:
    known = states(a_test="alive")
    frontier = frontier_of(urls("a.test", 3), per_host=1, live=10, probing=10, known=known)

    async def go() -> tuple[str, str]:
        first = await frontier.take()
        assert first is not None
        frontier.release(first)
        second = await asyncio.wait_for(frontier.take(), 1)
        assert second is not None
        return first.url, second.url

    assert asyncio.run(go()) == ("http://a.test/0", "http://a.test/1")


def test_unknown_hosts_use_the_probing_budget_and_cannot_starve_live_ones() -> None:
    known = states(live_test="alive")
    dead = [url for n in range(20) for url in urls(f"dead{n}.test", 3)]
    frontier = frontier_of(dead + urls("live.test", 4), per_host=3, live=4, probing=5, known=known)
    taken = take_all_ready(frontier)
    probing = [lease for lease in taken if lease.budget == "probing"]
    assert len(probing) == 5
    assert [lease.url for lease in taken if lease.host == "live.test"] == urls("live.test", 3)  # per_host 3


def test_an_unreachable_host_hands_out_all_its_urls_at_once() -> None:
    known = states(gone_test="unreachable")
    frontier = frontier_of(urls("gone.test", 50), per_host=2, live=1, probing=1, known=known)
    taken = take_all_ready(frontier)
    assert len(taken) == 50 and {lease.budget for lease in taken} == {"free"}


def test_take_waits_for_room_and_ends_with_none() -> None:
    known = states(a_test="alive")
    frontier = frontier_of(urls("a.test", 2), per_host=1, live=1, probing=1, known=known)

    async def go() -> list[str | None]:
        first = await frontier.take()
        assert first is not None
        waiting = asyncio.ensure_future(frontier.take())
        await asyncio.sleep(0.05)
        assert not waiting.done(), "handed out a second URL of a host with per_host 1"
        frontier.release(first)
        second = await asyncio.wait_for(waiting, 1)
        assert second is not None
        frontier.release(second)
        return [first.url, second.url, None if await frontier.take() is None else "more"]

    assert asyncio.run(go()) == ["http://a.test/0", "http://a.test/1", None]


@pytest.mark.parametrize(("failures", "state"), [(1, "unknown"), (2, "unknown"), (3, "unreachable")])
def test_a_host_is_given_up_after_failures_in_a_row(failures: int, state: HostState) -> None:
    health = HostHealth(dead_after=3)
    for _ in range(failures):
        health.failed("h.test", "timeout", "no complete answer within 5 s")
    assert health.state("h.test") == state


def test_an_answer_resets_the_count_and_other_errors_do_not_count() -> None:
    health = HostHealth(dead_after=2)
    health.failed("h.test", "connect", "refused")
    health.answered("h.test")
    health.failed("h.test", "connect", "refused")
    health.failed("h.test", "http_404", "HTTP 404")
    assert health.state("h.test") == "alive"
    health.failed("h.test", "timeout", "slow")
    assert health.state("h.test") == "unreachable"
    assert health.why_unreachable("h.test") == (
        "h.test is unreachable: 2 connection failures or timeouts in a row, the first: refused"
    )


def test_dead_after_zero_never_gives_up() -> None:
    health = HostHealth(dead_after=0)
    for _ in range(100):
        health.failed("h.test", "timeout", "slow")
    assert health.state("h.test") == "unknown"
