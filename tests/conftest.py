"""Shared fixtures: real servers on loopback, started per session or per need."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.server import Server, start_server
from tests.support.services import create_database, postgres_server, redis_server

BACKENDS = ["memory-sqlite", "redis-postgres"]


@pytest.fixture(scope="session")
def backing_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One throw-away Redis and PostgreSQL for the whole run (each server gets its own DB)."""
    with ExitStack() as stack:
        urls = {
            "redis": stack.enter_context(redis_server(tmp_path_factory.mktemp("redis"))),
            "postgres": stack.enter_context(postgres_server(tmp_path_factory.mktemp("pg"))),
        }
        yield urls


def backend_settings(backend: str, services: dict[str, str]) -> dict[str, str]:
    if backend == "memory-sqlite":
        return {}
    db = create_database(services["postgres"], f"connect_{uuid.uuid4().hex[:12]}", migrated=True)
    redis_db = f"{services['redis'].rsplit('/', 1)[0]}/{next(_REDIS_DB)}"
    return {"CONNECT_DATABASE_URL": db, "CONNECT_REDIS_URL": redis_db}


_REDIS_DB = itertools.count(1)


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The shared server, once per backend: every test using it runs against both."""
    overrides = {}
    if request.param != "memory-sqlite":
        overrides = backend_settings(request.param, request.getfixturevalue("backing_services"))
    srv = start_server(tmp_path_factory.mktemp("server"), overrides)
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
