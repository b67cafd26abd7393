"""Crawling in several processes: how URLs and limits are shared out, and counts summed.

The real CLI with ``--processes`` (interrupted, killed, a worker dying) is
tested in test_resume.py, against its slow server.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from crawler.run.processes import deal, process_count, share, worker_settings
from crawler.run.stats import Stats, total
from crawler.settings import Settings
from tests.support.settings import settings


def limits(**values: int) -> Settings:
    """The default settings with these ``[limits]``."""
    return settings(**{f"limits.{key}": value for key, value in values.items()})


def test_each_hosts_urls_are_dealt_round_robin_and_each_host_starts_on_the_next_shard() -> None:
    a = [f"http://a.test/{i}" for i in range(5)]
    b, c = "http://b.test/0", "http://c.test/0"
    assert deal([a[0], a[1], b, a[2], c, a[3], a[4]], 2) == [[a[0], a[2], c, a[4]], [a[1], b, a[3]]]


def test_hosts_listed_once_are_spread_over_the_shards() -> None:
    urls = [f"http://host{i}.test/" for i in range(6)]
    assert [len(shard) for shard in deal(urls, 3)] == [2, 2, 2]


@given(st.lists(st.sampled_from(["http://a.test/", "http://b.test/", "http://c.test/x", "http://[::1]/"]), max_size=40)
       .map(lambda bases: [f"{base}{i}" for i, base in enumerate(bases)]), st.integers(1, 5))
def test_every_url_lands_in_one_shard_in_list_order_and_hosts_stay_balanced(urls: list[str], count: int) -> None:
    shards = deal(urls, count)
    assert len(shards) == count
    assert sorted(url for shard in shards for url in shard) == sorted(urls)
    for shard in shards:
        assert shard == [url for url in urls if url in shard]
    for host in {url.rsplit("/", 1)[0] for url in urls}:
        per_shard = [sum(url.startswith(host + "/") for url in shard) for shard in shards]
        assert max(per_shard) - min(per_shard) <= 1


@given(st.integers(1, 5000), st.integers(1, 64))
def test_shares_add_up_to_the_total_and_differ_by_at_most_one(whole: int, count: int) -> None:
    parts = [share(whole, count, index) for index in range(count)]
    assert sum(parts) == whole
    assert max(parts) - min(parts) <= 1


def test_each_worker_gets_its_share_of_concurrency_and_per_host_and_one_process() -> None:
    given_settings = limits(concurrency=65, per_host=5, processes=2)
    workers = [worker_settings(given_settings, 2, index).limits for index in range(2)]
    assert [(w.concurrency, w.per_host, w.processes) for w in workers] == [(33, 3, 1), (32, 2, 1)]
    assert workers[0].max_page_bytes == given_settings.limits.max_page_bytes


def test_never_more_processes_than_per_host_concurrency_or_urls_allow() -> None:
    assert process_count(limits(processes=8, per_host=6, concurrency=32), 100) == 6
    assert process_count(limits(processes=8, per_host=64, concurrency=4), 100) == 4
    assert process_count(limits(processes=8, per_host=64, concurrency=64), 3) == 3
    assert process_count(limits(processes=8), 0) == 1
    assert process_count(limits(processes=1, per_host=64, concurrency=64), 100) == 1


def test_counts_of_workers_are_summed_error_kinds_included() -> None:
    first = Stats(listed=3, done=2, fingerprinted=5, errors=Counter({"timeout": 2}), bytes_fetched=100)
    second = Stats(listed=4, done=4, skipped=1, errors=Counter({"timeout": 1, "proxy": 3}), bytes_fetched=50)
    summed = total([first, second])
    assert (summed.listed, summed.done, summed.fingerprinted, summed.skipped) == (7, 6, 5, 1)
    assert summed.errors == Counter({"timeout": 3, "proxy": 3})
    assert summed.bytes_fetched == 150
    assert summed.processes == 2
