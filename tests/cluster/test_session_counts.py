"""The gauges' session counts (``connect_sessions_live``, ``connect_calls_active``) come
from the store without reading every session: two set sizes on Redis, kept by ``add``
and the ``CLOSE`` script; the memory store counts its own. Both stores agree with
:meth:`live` through a session's and a call's start and end."""

from __future__ import annotations

from pathlib import Path

import pytest

from connect.clock import FakeClock
from connect.sessions.models import Member
from connect.sessions.service import SessionService
from connect.sessions.store import MemorySessionStore, RedisSessionStore, SessionStore
from connect.storage.redis import connect as connect_redis
from tests.support.faults import redis_process

pytestmark = pytest.mark.cluster


def member(name: str) -> Member:
    return Member(f"c-{name}", f"p-{name}", f"guest:{name}", "ip")


async def check(store: SessionStore) -> None:
    sessions = SessionService(store, FakeClock(), 60.0)

    async def both() -> tuple[int, int]:
        live = await sessions.live()
        counted = await sessions.counts()
        assert counted == (len(live), sum(1 for s in live if s.kind == "call"))
        return counted

    assert await both() == (0, 0)
    await sessions.start("video", member("a"), member("b"), [])
    await sessions.start("video", member("c"), member("d"), [], call_id="call-1")
    assert await both() == (2, 1)
    assert await sessions.end("c-d", "hangup") is not None
    assert await both() == (1, 0)
    assert await sessions.end("c-d", "hangup") is None  # ended once: counted once
    assert await sessions.end("c-a", "ended") is not None
    assert await both() == (0, 0)


async def test_memory_counts_match_live() -> None:
    await check(MemorySessionStore())


async def test_redis_counts_match_live(tmp_path: Path) -> None:
    with redis_process(tmp_path / "redis", persist=False) as server:
        client = connect_redis(server.url)
        try:
            await check(RedisSessionStore(client))
        finally:
            await client.aclose()
