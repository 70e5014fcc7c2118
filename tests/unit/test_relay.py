"""Which socket events are handled in the read callback: relays, and only with in-process sessions.

That they relay as the awaited forms do is the integration and cluster tests' job.
"""

from __future__ import annotations

from redis.asyncio import Redis

from connect.clock import FakeClock
from connect.services import Services
from connect.sessions.service import SessionService
from connect.sessions.store import RedisSessionStore
from connect.signaling.events import RELAYS


def test_relays_are_immediate_with_the_in_process_session_store(svc: Services) -> None:
    routes = svc.router.routes
    for event in [*RELAYS, "send-message", "call-stats"]:
        assert routes[event].now is not None, event
        assert routes[event].handler is None, event
    for event in ("join-queue", "next", "end-call"):
        assert routes[event].now is None, event
        assert routes[event].handler is not None, event


async def test_a_shared_session_store_is_never_immediate(clock: FakeClock) -> None:
    client = Redis(host="127.0.0.1", port=1)  # never connected: only the store's kind matters
    try:
        assert not SessionService(RedisSessionStore(client), clock, 60).immediate
    finally:
        await client.aclose()
