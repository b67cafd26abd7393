"""Shared fixtures: the real sample corpus and real servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.corpora import SHARED_CORPUS
from tests.support.servers import Nginx

CORPUS = SHARED_CORPUS


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the sample corpus is missing: expected {CORPUS} beside the checkout")
    return CORPUS


@pytest.fixture
def nginx_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Start nginx on a folder: ``nginx_factory(root, extra_config)``."""
    started: list[Nginx] = []

    def start(root: Path, extra: str = "") -> Nginx:
        server = Nginx(root, tmp_path_factory.mktemp("nginx"), extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
