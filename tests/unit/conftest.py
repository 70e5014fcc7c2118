"""Unit fixtures: the real service graph on a throw-away SQLite file and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from connect.clock import FakeClock
from connect.matching.redis_store import RedisMatchStore
from connect.matching.store import MatchStore, MemoryMatchStore
from connect.services import Services, build_services
from connect.settings import Settings
from connect.storage.migrate import upgrade
from connect.storage.redis import connect as connect_redis
from tests.support.services import redis_server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[MatchStore]:
    """Each store test runs against the in-process store and the Redis (Lua) one."""
    if request.param == "memory":
        yield MemoryMatchStore()
        return
    client = connect_redis(request.getfixturevalue("redis_url"))
    await client.flushdb()
    yield RedisMatchStore(client)
    await client.aclose()


@pytest.fixture
async def svc(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Services]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        autosuspend_reporters=3,
        report_spam_per_hour=3,
        next_streak_count=5,
        next_streak_short_s=3,
        next_streak_window_s=60,
        token_churn_devices=4,
        captcha_max_number=2000,
    )
    import asyncio

    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    services = build_services(settings, clock)
    yield services
    await services.db.close()
