"""MatchingService on a fake clock: who offers, skip memory, widening sweep, suspend and resume."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connect.clock import FakeClock
from connect.gateway.connection import Client
from connect.identity.service import Principal
from connect.matching.rules import MatchPolicy
from connect.matching.schemas import JoinQueue
from connect.matching.service import MatchingService
from connect.matching.store import MemoryMatchStore
from connect.observability.metrics import Metrics
from connect.sessions.service import SessionService
from connect.sessions.store import MemorySessionStore
from connect.turn.service import TurnService


class Inbox:
    """The delivery port, recording what each client would receive."""

    def __init__(self) -> None:
        self.frames: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def deliver(self, client_id: str, event: str, data: Mapping[str, Any]) -> bool:
        self.frames.setdefault(client_id, []).append((event, dict(data)))
        return True

    def events(self, client: Client) -> list[str]:
        return [e for e, _ in self.frames.get(client.id, [])]

    def last(self, client: Client, event: str) -> dict[str, Any]:
        return [d for e, d in self.frames.get(client.id, []) if e == event][-1]


def make(clock: FakeClock, store: MemoryMatchStore | None = None) -> tuple[MatchingService, Inbox]:
    inbox = Inbox()
    sessions = SessionService(MemorySessionStore(), clock, record_ttl_s=3600)
    svc = MatchingService(
        store=store or MemoryMatchStore(),
        sessions=sessions,
        deliverer=inbox,
        turn=TurnService("secret", ["turn:127.0.0.1:3478"], [], 3600, clock),
        policy=MatchPolicy(interest_widen_s=5, region_widen_s=15, recent_pair_s=600),
        clock=clock,
        metrics=Metrics(),
    )
    return svc, inbox


def client(name: str) -> Client:
    return Client(
        f"c-{name}", Principal(f"dev-{name}", "guest", f"ip-{name}", 0), f"ip-{name}", f"r-{name}"
    )


async def join(svc: MatchingService, c: Client, **criteria: Any) -> None:
    ticket = await svc.prepare_join(c, JoinQueue(mode=criteria.pop("mode", "video"), **criteria))
    await svc.enqueue(ticket)


async def test_longer_waiter_offers_and_credentials_are_per_recipient() -> None:
    clock = FakeClock()
    svc, inbox = make(clock)
    a, b = client("a"), client("b")
    await join(svc, a)
    assert inbox.events(a) == ["queued"]
    clock.advance(2)
    await join(svc, b)
    ma, mb = inbox.last(a, "matched"), inbox.last(b, "matched")
    assert (ma["initiator"], mb["initiator"]) == (True, False)
    assert ma["iceServers"][0]["username"].endswith(":dev-a")
    assert mb["iceServers"][0]["username"].endswith(":dev-b")


async def test_next_skips_requeues_and_blocks_rematch_for_ten_minutes() -> None:
    clock = FakeClock()
    svc, inbox = make(clock)
    a, b = client("a"), client("b")
    await join(svc, a)
    await join(svc, b)
    ticket = await svc.prepare_next(a)
    assert inbox.last(b, "peer-ended") == {"reason": "skipped"}
    assert ticket is not None
    await svc.enqueue(ticket)
    b_ticket = await svc.prepare_next(b)
    assert b_ticket is not None
    await svc.enqueue(b_ticket)
    assert await svc.waiting() == {"video": 2}
    clock.advance(599)
    assert await svc.sweep() == []
    clock.advance(1)
    [pairing] = await svc.sweep()
    assert {pairing.initiator.client_id, pairing.other.client_id} == {a.id, b.id}


async def test_sweep_pairs_after_interest_widening() -> None:
    clock = FakeClock()
    svc, inbox = make(clock)
    a, b = client("a"), client("b")
    await join(svc, a, interests=["chess"])
    await join(svc, b, interests=["knitting"])
    assert await svc.sweep() == []
    clock.advance(5)
    assert len(await svc.sweep()) == 1
    assert inbox.last(a, "matched")["commonInterests"] == []


async def test_suspend_tells_partner_and_resume_restores_queue_place() -> None:
    clock = FakeClock()
    svc, inbox = make(clock)
    a, b, c = client("a"), client("b"), client("c")
    await join(svc, a)
    await join(svc, b)
    await svc.on_suspend(a)
    assert inbox.events(b)[-1] == "peer-reconnecting"
    await svc.on_resume(a)
    assert inbox.events(b)[-1] == "peer-reconnected"
    await svc.on_gone(a)
    assert inbox.last(b, "peer-ended") == {"reason": "disconnected"}

    await join(svc, c, mode="text")
    await svc.on_suspend(c)
    assert await svc.waiting() == {"video": 0, "text": 0}
    await svc.on_resume(c)
    assert await svc.waiting() == {"video": 0, "text": 1}


async def test_a_client_gone_for_good_leaves_no_criteria_behind() -> None:
    clock = FakeClock()
    store = MemoryMatchStore()
    svc, _ = make(clock, store)
    a, b = client("a"), client("b")
    await join(svc, a, interests=["chess"])
    await join(svc, b, interests=["chess"])
    assert await store.get_criteria(a.id) is not None
    await svc.on_gone(a)
    assert await store.get_criteria(a.id) is None
    assert await store.get_criteria(b.id) is not None


async def test_the_matches_per_minute_memory_stays_a_minute_long_unread() -> None:
    """Nobody opens the dashboard (the only reader): still only the last minute's
    matches are kept, not a timestamp per match for ever."""
    clock = FakeClock()
    svc, _ = make(clock)
    for n in range(30):
        await join(svc, client(f"a{n}"), interests=[f"t{n}"])
        await join(svc, client(f"b{n}"), interests=[f"t{n}"])
        clock.advance(10)
    assert len(svc._recent_matches) == 7  # the matches at 230-290 s: the last 60 s, both ends
    clock.advance(51)
    assert svc.matches_last_minute() == 0
