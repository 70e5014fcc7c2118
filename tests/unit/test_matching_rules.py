"""Each matching rule of PROTOCOL.md, widening on a fake clock, and fairness."""

from __future__ import annotations

import itertools

import pytest

from connect.clock import FakeClock
from connect.matching.rules import MatchPolicy, Ticket, accepts, compatible
from connect.matching.store import MatchStore

POLICY = MatchPolicy(
    interest_widen_s=5, region_widen_s=15, language_widen_s=None, recent_pair_s=600
)
_ids = itertools.count()


def ticket(
    *,
    mode: str = "video",
    language: str | None = None,
    region: str | None = None,
    interests: tuple[str, ...] = (),
    since: float = 0.0,
    device: str | None = None,
    ip: str | None = None,
) -> Ticket:
    n = next(_ids)
    return Ticket(
        client_id=f"c{n}",
        device_id=device or f"d{n}",
        ip_hash=ip or f"ip{n}",
        mode=mode,
        language=language,
        region=region,
        interests=frozenset(interests),
        since=since,
    )


def test_same_mode_only() -> None:
    assert not compatible(
        ticket(mode="video"), ticket(mode="text"), 0, POLICY, recently_paired=False
    )
    assert compatible(ticket(mode="text"), ticket(mode="text"), 0, POLICY, recently_paired=False)


def test_never_same_client_device_or_ip() -> None:
    a = ticket()
    assert not compatible(a, a, 0, POLICY, recently_paired=False)
    assert not compatible(ticket(device="x"), ticket(device="x"), 0, POLICY, recently_paired=False)
    assert not compatible(ticket(ip="h"), ticket(ip="h"), 0, POLICY, recently_paired=False)
    same_ip_ok = MatchPolicy(allow_same_ip=True)
    assert compatible(ticket(ip="h"), ticket(ip="h"), 0, same_ip_ok, recently_paired=False)


def test_recent_pair_is_not_rematched() -> None:
    assert not compatible(ticket(), ticket(), 0, POLICY, recently_paired=True)


def test_interests_required_until_widened() -> None:
    a = ticket(interests=("chess",), since=0)
    b = ticket(interests=("music",), since=0)
    shared = ticket(interests=("chess", "go"), since=0)
    assert compatible(a, shared, 1, POLICY, recently_paired=False)
    assert not compatible(a, b, 4.9, POLICY, recently_paired=False)
    assert compatible(a, b, 5.0, POLICY, recently_paired=False)
    none = ticket(since=0)
    assert not accepts(a, none, 1, POLICY)
    assert accepts(none, a, 1, POLICY)


def test_region_must_agree_until_widened_by_each_side() -> None:
    eu = ticket(region="eu", since=0)
    us = ticket(region="us", since=10)
    assert not compatible(eu, us, 14, POLICY, recently_paired=False)
    assert accepts(eu, us, 15, POLICY)
    assert not compatible(eu, us, 15, POLICY, recently_paired=False), "the newcomer has not widened"
    assert compatible(eu, us, 25, POLICY, recently_paired=False)
    assert compatible(eu, ticket(since=0), 0, POLICY, recently_paired=False), (
        "no region = any region"
    )


def test_language_never_widens_unless_allowed() -> None:
    en = ticket(language="en", since=0)
    de = ticket(language="de", since=0)
    assert not compatible(en, de, 10_000, POLICY, recently_paired=False)
    allowed = MatchPolicy(language_widen_s=60)
    assert not compatible(en, de, 59, allowed, recently_paired=False)
    assert compatible(en, de, 60, allowed, recently_paired=False)
    assert compatible(en, ticket(language="en"), 0, POLICY, recently_paired=False)


def test_widening_order_interests_then_region_then_language() -> None:
    policy = MatchPolicy(interest_widen_s=5, region_widen_s=15, language_widen_s=30)
    assert policy.interest_widen_s < policy.region_widen_s < (policy.language_widen_s or 0)
    a = ticket(interests=("a",), region="eu", language="en", since=0)
    b = ticket(interests=("b",), region="us", language="de", since=0)
    verdicts = [compatible(a, b, t, policy, recently_paired=False) for t in (4, 6, 16, 31)]
    assert verdicts == [False, False, False, True]


async def test_longest_waiting_compatible_candidate_goes_first(store: MatchStore) -> None:
    incompatible = ticket(mode="text", since=0, device="waiter")
    first = ticket(region="eu", since=1, device="waiter")
    second = ticket(since=2, device="waiter")
    third = ticket(since=3, device="waiter")
    for t in (incompatible, third, first, second):
        assert await store.pair_or_wait(t, 3, POLICY) is None, "one device never pairs with itself"
    us_newcomer = ticket(region="us", since=10)
    assert await store.pair_or_wait(us_newcomer, 10, POLICY) == second, "first is eu-only"
    assert await store.pair_or_wait(ticket(since=11), 11, POLICY) == first
    assert await store.pair_or_wait(ticket(since=12), 12, POLICY) == third


async def test_a_newcomer_with_interests_gets_the_longest_waiting_one_sharing_them(
    store: MatchStore,
) -> None:
    anyone = ticket(since=0, device="waiter")  # waited longest, shares nothing with newcomers
    chess = ticket(interests=("chess",), since=2, device="waiter")
    both = ticket(interests=("go", "chess"), since=1, device="waiter")
    jazz = ticket(interests=("jazz",), since=0.5, device="waiter")
    for t in (anyone, chess, both, jazz):
        assert await store.pair_or_wait(t, 3, POLICY) is None, "one device never pairs with itself"
    newcomer = ticket(interests=("chess", "go"), since=3)
    assert await store.pair_or_wait(newcomer, 3, POLICY) == both
    assert await store.pair_or_wait(ticket(interests=("go", "chess"), since=3), 3, POLICY) == chess
    assert await store.pair_or_wait(ticket(interests=("go",), since=3), 3, POLICY) is None
    widened = ticket(interests=("chess",), since=-10)  # resumed: waited past the widening
    assert await store.pair_or_wait(widened, 3, POLICY) == anyone


async def test_each_waiting_visitor_is_paired_at_most_once(store: MatchStore) -> None:
    waiting = ticket(since=0)
    assert await store.pair_or_wait(waiting, 0, POLICY) is None
    assert await store.pair_or_wait(ticket(since=1), 1, POLICY) == waiting
    third = ticket(since=2)
    assert await store.pair_or_wait(third, 2, POLICY) is None
    assert (await store.waiting())["video"] == 1
    assert await store.remove(third.client_id) == third
    assert await store.remove(third.client_id) is None
    assert (await store.waiting())["video"] == 0


async def test_sweep_pairs_visitors_once_their_criteria_widen(store: MatchStore) -> None:
    clock = FakeClock(start=0)
    a = ticket(interests=("chess",), since=clock.now())
    b = ticket(interests=("music",), since=clock.now())
    assert await store.pair_or_wait(a, clock.now(), POLICY) is None
    assert await store.pair_or_wait(b, clock.now(), POLICY) is None
    assert await store.sweep(clock.now(), POLICY) == []
    clock.advance(5)
    assert await store.sweep(clock.now(), POLICY) == [(a, b)]
    assert (await store.waiting())["video"] == 0


async def test_region_and_language_rules_hold_in_the_store(store: MatchStore) -> None:
    en = ticket(language="en", region="eu", since=0)
    assert await store.pair_or_wait(en, 0, POLICY) is None
    assert await store.pair_or_wait(ticket(language="de", since=0), 0, POLICY) is None
    assert await store.pair_or_wait(ticket(language="fr", region="eu", since=0), 1, POLICY) is None
    match = await store.pair_or_wait(ticket(language="en", region="eu", since=2), 2, POLICY)
    assert match == en


async def test_same_ip_refused_unless_allowed(store: MatchStore) -> None:
    a = ticket(ip="shared", since=0)
    assert await store.pair_or_wait(a, 0, POLICY) is None
    assert await store.pair_or_wait(ticket(ip="shared", since=1), 1, POLICY) is None
    allow = MatchPolicy(allow_same_ip=True)
    assert await store.pair_or_wait(ticket(ip="shared", since=2), 2, allow) == a


async def test_recent_pair_memory_expires(store: MatchStore) -> None:
    clock = FakeClock(start=0)
    a = ticket(device="alice", since=0)
    b = ticket(device="bob", since=0)
    await store.remember_pair("alice", "bob", until=clock.now() + 600, now=clock.now())
    assert await store.pair_or_wait(a, clock.now(), POLICY) is None
    assert await store.pair_or_wait(b, clock.now(), POLICY) is None
    clock.advance(599)
    assert await store.sweep(clock.now(), POLICY) == []
    clock.advance(1)
    assert await store.sweep(clock.now(), POLICY) == [(a, b)]


@pytest.mark.parametrize("n", [2, 7, 50])
async def test_burst_of_compatible_visitors_pairs_everyone_but_odd_one(
    store: MatchStore, n: int
) -> None:
    pairs = []
    for i in range(n):
        partner = await store.pair_or_wait(ticket(since=i), i, POLICY)
        if partner is not None:
            pairs.append(partner)
    assert len(pairs) == n // 2
    assert sum((await store.waiting()).values()) == n % 2


async def test_park_and_criteria(store: MatchStore) -> None:
    t = ticket(since=5)
    await store.park(t.client_id, t, 60)
    assert await store.unpark(t.client_id) == t
    assert await store.unpark(t.client_id) is None
    await store.set_criteria("c1", b'{"mode":"text"}', 60)
    assert await store.get_criteria("c1") == b'{"mode":"text"}'
