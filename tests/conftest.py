"""Shared fixtures: the real sample images and real servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.corpora import CORPUS
from tests.support.servers import Nginx

pytest_plugins = ["tests.support.socks_server"]  # its fixture socks_servers


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The images the tests read: ``../shared/corpus`` when present, else ``tests/samples``."""
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


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """A PostgreSQL server for the session (tests/postgres_server.py)."""
    from tests.support.postgres_server import Postgres

    server = Postgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty index of each backend: an SQLite path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "index.sqlite")
    server = request.getfixturevalue("postgres")
    return str(server.database())
