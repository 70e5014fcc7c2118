"""Shared fixtures: real servers on loopback, started per session or per need."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.server import Server, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("server"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def make_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Mapping[str, str]], Server]]:
    """Start servers with particular settings; all are stopped when the module ends."""
    started: list[Server] = []

    def make(overrides: Mapping[str, str]) -> Server:
        srv = start_server(Path(tmp_path_factory.mktemp("server")), overrides)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()
