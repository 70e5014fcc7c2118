"""The avoid list ("don't match me with this person again") in both stores and the service.

Store tests run against the in-process store and the Redis (Lua) one (the
``store`` fixture); service tests drive ``next`` with ``avoid`` and the
report hook on a fake clock. The recent-pair window is set to zero where the
point is that the avoid list outlives it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import Any

import pytest

from connect.clock import FakeClock
from connect.errors import ConnectError
from connect.gateway.connection import Client
from connect.identity.service import Principal
from connect.matching.rules import MatchPolicy, Ticket
from connect.matching.schemas import JoinQueue
from connect.matching.service import MatchingService
from connect.matching.store import MatchStore, MemoryMatchStore
from connect.observability.metrics import Metrics
from connect.sessions.service import SessionService
from connect.sessions.store import MemorySessionStore
from connect.turn.service import TurnService

DAY = 86_400.0
POLICY = MatchPolicy(recent_pair_s=0, avoid_s=30 * DAY, avoid_cap=3)
_ids = itertools.count()


def ticket(subject: str, since: float = 0.0, mode: str = "video") -> Ticket:
    n = next(_ids)
    return Ticket(
        client_id=f"c{n}",
        device_id=subject,
        ip_hash=f"ip{n}",
        mode=mode,  # type: ignore[arg-type]
        language=None,
        region=None,
        interests=frozenset(),
        since=since,
    )


async def avoid(store: MatchStore, subject: str, other: str, now: float, cap: int = 3) -> None:
    await store.avoid(subject, other, now + POLICY.avoid_s, now, cap)


# ---------------------------------------------------------------- the stores


async def test_an_avoided_pair_is_never_matched_either_way_until_it_expires(
    store: MatchStore,
) -> None:
    await avoid(store, "guest:alice", "guest:bob", now=0)
    bob = ticket("guest:bob")
    assert await store.pair_or_wait(bob, 0, POLICY) is None
    assert await store.pair_or_wait(ticket("guest:alice", 1), 1, POLICY) is None, "alice → bob"
    assert await store.sweep(DAY, POLICY) == []
    # bob's own list is empty: the refusal comes from alice's list, read from both sides.
    assert await store.avoided("guest:bob", 0) == []
    carol = ticket("guest:carol", 2)
    assert await store.pair_or_wait(carol, 2, POLICY) == bob, "a third visitor still gets matched"
    assert await store.sweep(30 * DAY - 1, POLICY) == [], "29.99 days later: still avoided"
    alice_again = ticket("guest:bob", 30 * DAY)
    waiting_alice = await store.pair_or_wait(alice_again, 30 * DAY, POLICY)
    assert waiting_alice is not None
    assert waiting_alice.device_id == "guest:alice", "expired"


async def test_the_newcomer_skips_avoided_waiters_either_way(store: MatchStore) -> None:
    await avoid(store, "guest:x", "guest:y", now=0)  # so that x and y both wait
    await avoid(store, "guest:y", "guest:me", now=0)  # a waiter's own list counts
    await avoid(store, "guest:me", "guest:x", now=0)  # and the newcomer's
    x = ticket("guest:x", 0)
    for t in (x, ticket("guest:y", 1), ticket("guest:me", 2)):
        assert await store.pair_or_wait(t, 2, POLICY) is None
    assert (await store.waiting())["video"] == 3
    assert await store.pair_or_wait(ticket("guest:z", 3), 3, POLICY) == x, "z takes the oldest"


async def test_the_list_keeps_the_latest_entries_up_to_the_cap(store: MatchStore) -> None:
    for i, other in enumerate(("guest:1", "guest:2", "guest:3")):
        await avoid(store, "user:me", other, now=float(i))
    await avoid(store, "user:me", "guest:1", now=3)  # refreshed: now the latest
    await avoid(store, "user:me", "guest:4", now=4)  # over the cap: guest:2 goes
    assert await store.avoided("user:me", 4) == ["guest:3", "guest:1", "guest:4"]
    two = ticket("guest:2", 5)
    assert await store.pair_or_wait(two, 5, POLICY) is None
    assert await store.pair_or_wait(ticket("user:me", 5), 5, POLICY) == two


async def test_being_avoided_by_many_does_not_flush_the_victims_own_lists(
    store: MatchStore,
) -> None:
    await avoid(store, "guest:victim", "guest:pest", now=0)
    for i in range(10):
        await avoid(store, f"guest:other{i}", "guest:pest", now=1)
        await avoid(store, "guest:pest", f"guest:other{i}", now=1)
    assert await store.avoided("guest:victim", 1) == ["guest:pest"]
    assert await store.pair_or_wait(ticket("guest:pest", 2), 2, POLICY) is None
    assert await store.pair_or_wait(ticket("guest:victim", 2), 2, POLICY) is None


async def test_guest_and_account_keys_never_share_a_list(store: MatchStore) -> None:
    await avoid(store, "user:abcdefgh12", "guest:bob", now=0)
    bob = ticket("guest:bob")
    assert await store.pair_or_wait(bob, 0, POLICY) is None
    twin = ticket("guest:abcdefgh12", 1)  # a device id that spells the account id
    assert await store.pair_or_wait(twin, 1, POLICY) == bob


async def test_nobody_avoids_themselves_and_a_zero_cap_keeps_nothing(store: MatchStore) -> None:
    await avoid(store, "guest:a", "guest:a", now=0)
    await avoid(store, "guest:a", "guest:b", now=0, cap=0)
    assert await store.avoided("guest:a", 0) == []


async def test_sweep_respects_the_list_and_forgets_expired_entries(store: MatchStore) -> None:
    await avoid(store, "guest:a", "guest:b", now=0)
    a, b = ticket("guest:a"), ticket("guest:b")
    policy = MatchPolicy(recent_pair_s=0, interest_widen_s=0, avoid_s=POLICY.avoid_s)
    await store.pair_or_wait(a, 0, policy)
    await store.pair_or_wait(b, 0, policy)
    assert await store.sweep(1, policy) == []
    assert await store.sweep(30 * DAY, policy) == [(a, b)]
    assert await store.avoided("guest:a", 30 * DAY) == []


async def test_memory_store_drops_expired_lists_entirely() -> None:
    store = MemoryMatchStore()
    await store.avoid("guest:a", "guest:b", 10, 0, 5)
    await store.avoid("guest:a", "guest:c", 20, 0, 5)
    await store.avoid("guest:a", "guest:b", 30, 0, 5)  # refreshed; the first heap item is stale
    await store.sweep(25, POLICY)
    assert await store.avoided("guest:a", 25) == ["guest:b"]
    await store.sweep(30, POLICY)
    assert store._avoid == {}
    assert store._avoid_expiry == []


# ---------------------------------------------------------------- the service


class Inbox:
    def __init__(self) -> None:
        self.frames: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def deliver(self, client_id: str, event: str, data: Mapping[str, Any]) -> bool:
        self.frames.setdefault(client_id, []).append((event, dict(data)))
        return True

    def deliver_subject(self, subject: str, event: str, data: Mapping[str, Any]) -> int:
        return 0

    def last(self, c: Client, event: str) -> dict[str, Any] | None:
        found = [d for e, d in self.frames.get(c.id, []) if e == event]
        return found[-1] if found else None


def service(store: MatchStore, clock: FakeClock) -> tuple[MatchingService, Inbox]:
    inbox = Inbox()
    svc = MatchingService(
        store=store,
        sessions=SessionService(MemorySessionStore(), clock, record_ttl_s=3600),
        deliverer=inbox,
        turn=TurnService("secret", ["turn:127.0.0.1:3478"], [], 3600, clock),
        policy=MatchPolicy(recent_pair_s=600, avoid_s=30 * DAY, avoid_cap=500),
        clock=clock,
        metrics=Metrics(),
    )
    return svc, inbox


def guest(name: str, kind: str = "guest", subject: str | None = None) -> Client:
    principal = Principal(subject or f"dev-{name}", kind, f"ip-{name}", 0)  # type: ignore[arg-type]
    return Client(f"c-{name}", principal, f"ip-{name}", f"r-{name}")


async def join(svc: MatchingService, c: Client) -> None:
    await svc.enqueue(await svc.prepare_join(c, JoinQueue(mode="text")))


async def next_(svc: MatchingService, c: Client, **kw: Any) -> None:
    t = await svc.prepare_next(c, **kw)
    if t is not None:
        await svc.enqueue(t)


async def session_of(svc: MatchingService, c: Client) -> str | None:
    s = await svc._sessions.current(c.id)
    return None if s is None else s.id


async def test_next_with_avoid_outlives_the_ten_minute_memory(store: MatchStore) -> None:
    clock = FakeClock()
    svc, _ = service(store, clock)
    a, b, c = guest("a"), guest("b"), guest("c")
    await join(svc, a)
    await join(svc, b)
    await next_(svc, a, avoid=True)
    await svc.leave(a)
    clock.advance(601)  # past the recent-pair memory
    await join(svc, b)
    await next_(svc, a)
    assert await session_of(svc, a) is None, "a and b are not paired again"
    clock.advance(29 * DAY)
    assert await svc.sweep() == []
    await join(svc, c)
    assert await session_of(svc, c) is not None, "a third visitor still gets matched"
    assert await store.avoided(a.subject, clock.now()) == [b.subject]


async def test_next_without_avoid_only_blocks_for_the_recent_window(store: MatchStore) -> None:
    clock = FakeClock()
    svc, _ = service(store, clock)
    a, b = guest("a"), guest("b")
    await join(svc, a)
    await join(svc, b)
    await next_(svc, a)
    await join(svc, b)
    assert await session_of(svc, a) is None, "within the 10 minutes"
    clock.advance(601)
    assert len(await svc.sweep()) == 1, "the control: a plain skip is forgotten after 10 min"


async def test_avoid_after_peer_ended_names_the_ended_session(store: MatchStore) -> None:
    clock = FakeClock()
    svc, inbox = service(store, clock)
    a, b, stranger = guest("a"), guest("b"), guest("s")
    await join(svc, a)
    await join(svc, b)
    sid = await session_of(svc, a)
    assert sid is not None
    await svc.end(b, "ended")
    assert inbox.last(a, "peer-ended") == {"reason": "ended"}
    with pytest.raises(ConnectError) as foreign:
        await svc.prepare_next(stranger, avoid=True, session_id=sid)
    assert foreign.value.code in ("not_queued", "not_in_session")
    await join(svc, stranger)
    await svc.leave(stranger)
    with pytest.raises(ConnectError) as not_mine:
        await svc.prepare_next(stranger, avoid=True, session_id=sid)
    assert not_mine.value.code == "not_in_session", "another visitor's chat is refused"
    with pytest.raises(ConnectError):
        await svc.prepare_next(a, avoid=True, session_id="0" * 32)
    assert await store.avoided(a.subject, clock.now()) == []
    await next_(svc, a, avoid=True, session_id=sid)
    assert await store.avoided(a.subject, clock.now()) == [b.subject]
    assert await store.avoided(stranger.subject, clock.now()) == []


async def test_a_report_avoids_the_other_member_only(store: MatchStore) -> None:
    clock = FakeClock()
    svc, _ = service(store, clock)
    a, b, outsider = guest("a"), guest("b"), guest("o")
    await join(svc, a)
    await join(svc, b)
    sid = await session_of(svc, a)
    assert sid is not None
    assert not await svc.avoid_reported(outsider.subject, sid), "not a member: nothing"
    assert not await svc.avoid_reported(a.subject, "f" * 32)
    assert await svc.avoid_reported(a.subject, sid)
    assert await store.avoided(a.subject, clock.now()) == [b.subject]
    assert await store.avoided(b.subject, clock.now()) == []


async def test_an_account_carries_its_list_to_every_device(store: MatchStore) -> None:
    clock = FakeClock()
    svc, _ = service(store, clock)
    phone = guest("phone", kind="access", subject="acct1234")
    laptop = guest("laptop", kind="access", subject="acct1234")
    b = guest("b")
    await join(svc, phone)
    await join(svc, b)
    await next_(svc, phone, avoid=True)
    await svc.leave(phone)
    clock.advance(601)
    await join(svc, b)
    await join(svc, laptop)
    assert await session_of(svc, laptop) is None, "the account avoids b on the laptop too"
    await svc.leave(laptop)
    twin = guest("twin", subject="acct1234")  # a guest whose device id spells the account id
    await join(svc, twin)
    paired = await svc._sessions.current(twin.id)
    assert paired is not None
    partner = paired.partner_of(twin.id)
    assert partner is not None
    assert partner.client_id == b.id


# ---------------------------------------------------------------- the cost


def test_join_cost_with_4000_waiting_and_a_full_avoid_list_memory_store() -> None:
    """Not a timed assertion: prints what one join costs (``pytest -s`` shows it).

    Measured in process on this 2-core machine (see the matching section of
    docs/protocol.md): the newcomer either avoids nobody, avoids 500 people
    who are not waiting, or avoids the 500 who have waited longest (its walk
    passes all of them before the first it may meet).
    """
    import asyncio

    policy = MatchPolicy(recent_pair_s=600, avoid_s=30 * DAY, avoid_cap=500)
    rounds = 200

    async def measure(case: str) -> float:
        store = MemoryMatchStore()
        # 4,000 waiting, each in its own language so none pairs with another; the newcomer
        # names no language, so every one of them would accept it.
        for i in range(4000):
            t = Ticket(f"w{i}", f"guest:w{i}", f"ip{i}", "video", f"l{i}", None, frozenset(), i)
            await store.enqueue(t, policy)  # straight in: pairing would walk 4,000 times
        if case != "none":
            others = [f"guest:w{i}" if case == "head" else f"guest:gone{i}" for i in range(500)]
            for o in others:
                await store.avoid("guest:me", o, 4000 + policy.avoid_s, 4000, 500)
        total = 0.0
        for r in range(rounds):
            me = Ticket(f"me{r}", "guest:me", "ipme", "video", None, None, frozenset(), 4000)
            start = time.perf_counter()
            partner = await store.pair_or_wait(me, 4000, policy)
            total += time.perf_counter() - start
            assert partner is not None
            await store.pair_or_wait(partner, 4000, policy)  # put it back for the next round
        return total / rounds * 1e6

    for case in ("none", "absent", "head"):
        print(
            f"memory store join, 4,000 waiting, avoid list {case}: {asyncio.run(measure(case)):.1f} µs"
        )
