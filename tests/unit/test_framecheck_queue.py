"""The frame queue's bounds: a full queue drops and counts, a slow frame times out.

The service runs for real (sessions in the memory store, the real rate limiter
and metrics); only the pool is a test double, ``HeldPool``, whose classify
waits until the test lets it go, so the queue's state is exact, not timed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

from connect.clock import FakeClock
from connect.framecheck.service import FrameCheckService
from connect.identity.service import Principal
from connect.moderation.bans import BanService
from connect.moderation.reports import ReportService
from connect.observability.metrics import Metrics
from connect.ratelimit import MemoryRateLimiter
from connect.sessions.models import Member
from connect.sessions.service import SessionService
from connect.sessions.store import MemorySessionStore
from connect.settings import Settings
from tests.support import frames


class HeldPool:
    """Test double of the FramePool interface: every classify waits for ``release``."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0
        self.closed = False

    async def classify(self, jpeg: bytes) -> dict[str, float]:
        self.started += 1
        await self.release.wait()
        return {"TEST_RED": 0.0}

    async def close(self) -> None:
        self.closed = True


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def deliver(self, client_id: str, event: str, data: Mapping[str, Any]) -> bool:
        self.sent.append((client_id, event))
        return True

    def deliver_subject(self, subject: str, event: str, data: Mapping[str, Any]) -> int:
        return 0


def sample(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "connect_framecheck_frames_total", {"outcome": outcome}
    )
    return value or 0.0


async def build(**settings: Any) -> tuple[FrameCheckService, HeldPool, Metrics, str, Principal]:
    clock = FakeClock()
    s = Settings(
        framecheck_enabled=True,
        framecheck_classifier="test-colour",
        framecheck_workers=1,
        rate_frames="1000/minute",
        **settings,
    )
    sessions = SessionService(MemorySessionStore(), clock, 3600)
    a = Member("client-a", "peer-a", "guest:dev-a", "ip-a")
    b = Member("client-b", "peer-b", "guest:dev-b", "ip-b")
    session = await sessions.start("video", a, b, [])
    metrics = Metrics()
    pool = HeldPool()
    svc = FrameCheckService(
        settings=s,
        sessions=sessions,
        reports=cast(ReportService, None),  # no frame here is a hit
        bans=cast(BanService, None),
        deliverer=Recorder(),
        limiter=MemoryRateLimiter(clock),
        metrics=metrics,
        clock=clock,
        pool=pool,
    )
    principal = Principal(
        subject="dev-a", kind="guest", ip_hash="ip-a", expires_at=clock.now() + 60
    )
    return svc, pool, metrics, session.id, principal


async def settle(check: Any) -> None:
    """Let the event loop run until ``check()`` holds (bounded to 200 turns)."""
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0)
    raise AssertionError("the workers did not get there")


async def test_a_full_queue_drops_and_counts() -> None:
    svc, pool, metrics, sid, me = await build(framecheck_queue=1)
    await svc.start()
    try:
        assert await svc.submit(me, sid, frames.GREY, "image/jpeg") is True
        await settle(lambda: pool.started == 1)  # the worker holds the first frame
        assert await svc.submit(me, sid, frames.GREY, "image/jpeg") is True  # waits in the queue
        assert await svc.submit(me, sid, frames.GREY, "image/jpeg") is False  # dropped
        assert sample(metrics, "dropped") == 1
        assert sample(metrics, "received") == 3
        pool.release.set()
        await settle(lambda: sample(metrics, "classified") == 2)
        assert await svc.submit(me, sid, frames.GREY, "image/jpeg") is True
    finally:
        await svc.close()
    assert pool.closed


async def test_a_frame_that_takes_too_long_times_out() -> None:
    svc, _pool, metrics, sid, me = await build(framecheck_timeout_s=0.05)
    await svc.start()
    try:
        assert await svc.submit(me, sid, frames.GREY, "image/jpeg") is True
        for _ in range(100):  # bounded: 100 x 20 ms; the timeout is 50 ms of real time
            if sample(metrics, "timeout") == 1:
                break
            await asyncio.sleep(0.02)  # waiting on asyncio.wait_for's real timer
        assert sample(metrics, "timeout") == 1
        assert sample(metrics, "classified") == 0
    finally:
        await svc.close()


async def test_offer_only_for_video_when_enabled() -> None:
    svc, *_ = await build()
    assert svc.offer("video") is not None
    assert svc.offer("text") is None
    off = FrameCheckService(
        settings=Settings(framecheck_enabled=False),
        sessions=SessionService(MemorySessionStore(), FakeClock(), 60),
        reports=cast(ReportService, None),
        bans=cast(BanService, None),
        deliverer=Recorder(),
        limiter=MemoryRateLimiter(FakeClock()),
        metrics=Metrics(),
        clock=FakeClock(),
    )
    assert off.offer("video") is None
    assert off.active is False
