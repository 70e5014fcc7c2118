"""The country choice, queue-status and match-timeout, on both stores and a fake clock.

Store tests run against the in-process store and the Redis (Lua) one (the
``store`` fixture); service tests drive the real MatchingService with a
GeoService whose operator database is a real ``.mmdb`` file written here.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connect.clock import FakeClock
from connect.gateway.connection import Client, Connection
from connect.geo.reader import MmdbCountryReader
from connect.geo.service import GeoService
from connect.identity.service import Principal
from connect.matching.redis_store import RedisMatchStore
from connect.matching.rules import MatchPolicy, Ticket, accepts, compatible, narrowing
from connect.matching.schemas import JoinQueue
from connect.matching.service import MatchingService
from connect.matching.store import MatchStore, MemoryMatchStore
from connect.observability.metrics import Metrics
from connect.ratelimit import TokenBucket
from connect.sessions.service import SessionService
from connect.sessions.store import MemorySessionStore
from connect.storage.redis import PREFIX
from connect.storage.redis import connect as connect_redis
from connect.turn.service import TurnService
from tests.support.geoip import write_country_mmdb

POLICY = MatchPolicy(interest_widen_s=5, region_widen_s=15, recent_pair_s=600)
_ids = itertools.count()


def ticket(
    country: str | None = None,
    *,
    countries: tuple[str, ...] = (),
    hide: bool = False,
    since: float = 0.0,
    language: str | None = None,
    interests: tuple[str, ...] = (),
) -> Ticket:
    n = next(_ids)
    return Ticket(
        client_id=f"c{n}",
        device_id=f"guest:d{n}",
        ip_hash=f"ip{n}",
        mode="video",
        language=language,
        region=None,
        interests=frozenset(interests),
        since=since,
        country=country,
        countries=frozenset(countries),
        hide_country=hide,
    )


# ------------------------------------------------------------------ the pure rule


def test_a_country_choice_accepts_only_people_from_there() -> None:
    chooser = ticket("DE", countries=("AT", "CH"))
    assert accepts(chooser, ticket("AT"), 0, POLICY)
    assert not accepts(chooser, ticket("DE"), 0, POLICY), "its own country only if chosen"
    assert not accepts(chooser, ticket(None), 0, POLICY), "unknown never satisfies a choice"
    assert not accepts(chooser, ticket("AT", hide=True), 0, POLICY), "hidden counts as none"
    # One-sided: the Austrian accepts the chooser; both must accept for a pair.
    assert accepts(ticket("AT"), chooser, 0, POLICY)
    assert not compatible(chooser, ticket("FR"), 0, POLICY, recently_paired=False)


def test_a_country_choice_never_widens_by_default_and_widens_when_set() -> None:
    chooser = ticket("DE", countries=("AT",), since=0)
    assert not accepts(chooser, ticket("FR"), 10_000, POLICY)
    widening = replace(POLICY, country_widen_s=30)
    assert not accepts(chooser, ticket("FR"), 29.9, widening)
    assert accepts(chooser, ticket("FR"), 30, widening)


def test_narrowing_lists_what_still_restricts_in_a_fixed_order() -> None:
    t = ticket("DE", countries=("DE",), language="de", interests=("chess",), since=0)
    assert narrowing(t, 1, POLICY) == ["language", "country", "interests"]
    assert narrowing(t, 6, POLICY) == ["language", "country"], "interests have widened"
    assert narrowing(ticket("DE"), 100, POLICY) == []
    assert narrowing(t, 31, replace(POLICY, country_widen_s=30, language_widen_s=30)) == []


# ------------------------------------------------------------------ both stores


async def test_the_chooser_gets_the_longest_waiting_compatriot(store: MatchStore) -> None:
    de1, fr, de2 = ticket("DE", since=1), ticket("FR", since=2), ticket("DE", since=3)
    for t in (de1, fr, de2):
        await store.pair_or_wait(replace(t, countries=frozenset({"XK"})), t.since, POLICY)
    # The waiting ones chose Kosovo (so they never pair with each other); re-enter plain.
    for t in (de1, fr, de2):
        await store.remove(t.client_id)
    await store.pair_or_wait(replace(de1, language="x1"), 1, POLICY)
    await store.pair_or_wait(replace(fr, language="x2"), 2, POLICY)
    await store.pair_or_wait(replace(de2, language="x3"), 3, POLICY)
    chooser = ticket("IT", countries=("FR",), since=4)
    got = await store.pair_or_wait(chooser, 4, POLICY)
    assert got is not None
    assert got.client_id == fr.client_id, "FR waited less, but is the one"
    both = ticket("IT", countries=("FR", "DE"), since=5)
    got = await store.pair_or_wait(both, 5, POLICY)
    assert got is not None
    assert got.client_id == de1.client_id, "the oldest of either country"


async def test_a_waiting_chooser_is_not_handed_to_someone_else(store: MatchStore) -> None:
    waiting = ticket("DE", countries=("AT",), since=0)
    assert await store.pair_or_wait(waiting, 0, POLICY) is None
    # Each in its own language, so they do not pair with one another.
    assert await store.pair_or_wait(ticket("FR", since=1, language="l1"), 1, POLICY) is None
    hidden = ticket("AT", hide=True, since=2, language="l2")
    assert await store.pair_or_wait(hidden, 2, POLICY) is None
    assert await store.pair_or_wait(ticket(None, since=3, language="l3"), 3, POLICY) is None
    austrian = ticket("AT", since=4)
    got = await store.pair_or_wait(austrian, 4, POLICY)
    assert got is not None
    assert got.client_id == waiting.client_id


async def test_a_hidden_country_travels_and_is_not_indexed(store: MatchStore) -> None:
    hidden = ticket("AT", hide=True, since=0)
    await store.pair_or_wait(hidden, 0, POLICY)
    back = await store.get(hidden.client_id)
    assert back == hidden, "country, countries and hideCountry survive the store"
    assert await store.pair_or_wait(ticket("DE", countries=("AT",), since=1), 1, POLICY) is None
    removed = await store.remove(hidden.client_id)
    assert removed == hidden
    assert (await store.waiting())["video"] == 1


async def test_sweep_honours_the_choice_and_its_widening(store: MatchStore) -> None:
    policy = replace(POLICY, country_widen_s=30)
    chooser = ticket("DE", countries=("AT",), since=0)
    other = ticket("FR", since=0)
    await store.pair_or_wait(chooser, 0, policy)
    await store.pair_or_wait(other, 0, policy)
    assert await store.sweep(29, policy) == []
    pairs = await store.sweep(30, policy)
    assert [{a.client_id, b.client_id} for a, b in pairs] == [{chooser.client_id, other.client_id}]
    assert (await store.waiting())["video"] == 0


async def test_the_country_index_follows_removal_and_rejoin(store: MatchStore) -> None:
    at = ticket("AT", since=0)
    await store.pair_or_wait(at, 0, POLICY)
    await store.remove(at.client_id)
    assert await store.pair_or_wait(ticket("DE", countries=("AT",), since=1), 1, POLICY) is None
    # Rejoin hidden: the chooser must not find it through a stale index entry.
    await store.pair_or_wait(replace(at, hide_country=True, since=2), 2, POLICY)
    assert await store.pair_or_wait(ticket("IT", countries=("AT",), since=3), 3, POLICY) is None
    assert await store.waiting_ids([at.client_id, "nobody"]) == {at.client_id}


async def test_a_compatriot_beyond_the_redis_scan_bound_is_found(store: MatchStore) -> None:
    """600 waiting (each in its own language) before the one Austrian: past SCAN_LIMIT (500)."""
    for i in range(600):
        await store.pair_or_wait(ticket("DE", since=i, language=f"l{i}"), i, POLICY)
    austrian = ticket("AT", since=600, language="at")
    await store.pair_or_wait(austrian, 600, POLICY)
    got = await store.pair_or_wait(ticket("IT", countries=("AT",), since=601), 601, POLICY)
    assert got is not None
    assert got.client_id == austrian.client_id


async def test_redis_counts_live_nodes_sockets_and_queues(redis_url: str) -> None:
    client = connect_redis(redis_url)
    await client.flushdb()
    store = RedisMatchStore(client)
    now_s, now_us = await client.time()
    now = now_s + now_us / 1e6
    await client.zadd(f"{PREFIX}nodes", {"n1": now, "n2": now - 1, "dead": now - 60})
    await client.sadd(f"{PREFIX}nodeconns:n1", "a", "b", "c")
    await client.sadd(f"{PREFIX}nodeconns:n2", "d")
    await client.sadd(f"{PREFIX}nodeconns:dead", "e", "f")
    await store.pair_or_wait(ticket("DE", since=0), 0, POLICY)
    assert await store.counts(3.0) == (4, {"video": 1, "text": 0})
    await client.aclose()


# ------------------------------------------------------------------ the service


class Inbox:
    def __init__(self) -> None:
        self.frames: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def deliver(self, client_id: str, event: str, data: Mapping[str, Any]) -> bool:
        self.frames.setdefault(client_id, []).append((event, dict(data)))
        return True

    def deliver_subject(self, subject: str, event: str, data: Mapping[str, Any]) -> int:
        return 0

    def of(self, c: Client, event: str) -> list[dict[str, Any]]:
        return [d for e, d in self.frames.get(c.id, []) if e == event]


class _Transport:
    def send_text(self, text: str) -> None: ...
    def buffered(self) -> int:
        return 0

    def close(self, code: int, reason: str) -> None: ...
    def abort(self) -> None: ...


@pytest.fixture
def geo(tmp_path: Path) -> GeoService:
    path = write_country_mmdb(
        tmp_path / "c.mmdb",
        {"127.0.0.2/32": "DE", "127.0.0.3/32": "FR", "127.0.0.4/32": "DE", "127.0.0.5/32": "AT"},
    )
    return GeoService(operator=MmdbCountryReader(path), embedded=None)


def visitor(name: str, ip: str, clock: FakeClock) -> Client:
    c = Client(f"c-{name}", Principal(f"dev-{name}", "guest", f"ip-{name}", 0), name, f"r-{name}")
    c.conn = Connection(_Transport(), 1 << 20, TokenBucket(10, 10, clock), name, ip)
    return c


def service(
    store: MatchStore, clock: FakeClock, geo: GeoService, **kw: Any
) -> tuple[MatchingService, Inbox]:
    inbox = Inbox()
    svc = MatchingService(
        store=store,
        sessions=SessionService(MemorySessionStore(), clock, record_ttl_s=3600),
        deliverer=inbox,
        turn=TurnService("secret", ["turn:127.0.0.1:3478"], [], 3600, clock),
        policy=POLICY,
        clock=clock,
        metrics=Metrics(),
        geo=geo,
        **kw,
    )
    return svc, inbox


async def join(svc: MatchingService, c: Client, **criteria: Any) -> Ticket:
    t = await svc.prepare_join(c, JoinQueue.model_validate({"mode": "video", **criteria}))
    await svc.enqueue(t)
    return t


async def test_my_country_matches_a_compatriot_and_matched_names_the_country(
    store: MatchStore, clock: FakeClock, geo: GeoService
) -> None:
    svc, inbox = service(store, clock, geo)
    fr = visitor("fr", "127.0.0.3", clock)
    de = visitor("de", "127.0.0.2", clock)
    de2 = visitor("de2", "127.0.0.4", clock)
    t = await join(svc, fr, language="fr")
    assert t.country == "FR"
    clock.advance(1)
    mine = await join(svc, de, country="mine")
    assert mine.countries == {"DE"}
    assert inbox.of(de, "matched") == [], "the French visitor is not from my country"
    clock.advance(1)
    await join(svc, de2, language="de")  # not "fr": the French visitor is not its match
    [m_de] = inbox.of(de, "matched")
    [m_de2] = inbox.of(de2, "matched")
    assert m_de["country"] == m_de2["country"] == "DE"
    assert inbox.of(fr, "matched") == []
    # A visitor who hides its country: the partner is not told (fr is still waiting).
    hider = visitor("at", "127.0.0.5", clock)
    t = await join(svc, hider, hideCountry=True)
    assert t.country == "AT", "still detected (the join ack tells the visitor itself)"
    [m_fr] = inbox.of(fr, "matched")
    [m_hider] = inbox.of(hider, "matched")
    assert "country" not in m_fr
    assert m_hider["country"] == "FR"


async def test_queue_status_and_match_timeout_while_waiting(
    store: MatchStore, clock: FakeClock, geo: GeoService
) -> None:
    svc, inbox = service(store, clock, geo, timeout_s=20, status_every_s=3)
    at = visitor("at", "127.0.0.5", clock)
    await join(svc, at, language="de", countries=["CH"], interests=["chess"])
    assert inbox.of(at, "queue-status") == [], "the first one goes with the next sweep"
    await svc.sweep()
    [first] = inbox.of(at, "queue-status")
    assert first["waiting"] == 1
    assert first["elapsedMs"] == 0
    assert first["narrow"] == ["language", "country", "interests"]
    assert first["online"] == 0, "no counter configured: nobody is counted online"
    for _ in range(19):
        clock.advance(1)
        await svc.sweep()
    statuses = inbox.of(at, "queue-status")
    assert len(statuses) == 7, "at 0, 3, ..., 18 s"
    assert statuses[-1]["narrow"] == ["language", "country"]
    assert inbox.of(at, "match-timeout") == []
    clock.advance(1)
    await svc.sweep()
    [notice] = inbox.of(at, "match-timeout")
    assert notice == {"waitedMs": 20_000, "suggest": ["language", "country"]}
    assert await store.get(at.id) is not None, "still queued"
    # The one-click widen keeps the place and never repeats the notice.
    widened = await svc.prepare_join(at, JoinQueue(mode="video", update=True))
    assert widened.since == clock.now() - 20
    assert widened.countries == frozenset()
    await svc.enqueue(widened)
    for _ in range(30):
        clock.advance(1)
        await svc.sweep()
    assert len(inbox.of(at, "match-timeout")) == 1
    assert inbox.of(at, "queue-status")[-1]["narrow"] == []
    other = visitor("fr", "127.0.0.3", clock)
    await join(svc, other)
    assert inbox.of(at, "matched")
    assert inbox.of(other, "matched")
    sent = len(inbox.of(at, "queue-status"))
    clock.advance(10)
    await svc.sweep()
    assert len(inbox.of(at, "queue-status")) == sent, "nothing after the match"


async def test_join_twice_without_update_is_refused_and_leaving_stops_the_pushes(
    store: MatchStore, clock: FakeClock, geo: GeoService
) -> None:
    from connect.errors import ConnectError

    svc, inbox = service(store, clock, geo, timeout_s=5, status_every_s=1)
    fr = visitor("fr", "127.0.0.3", clock)
    await join(svc, fr)
    with pytest.raises(ConnectError) as refused:
        await svc.prepare_join(fr, JoinQueue(mode="video"))
    assert refused.value.code == "already_queued"
    await svc.sweep()
    assert len(inbox.of(fr, "queue-status")) == 1
    await svc.leave(fr)
    clock.advance(10)
    await svc.sweep()
    assert len(inbox.of(fr, "queue-status")) == 1
    assert inbox.of(fr, "match-timeout") == []


async def test_a_visitor_matched_by_another_node_is_forgotten_when_due(
    store: MatchStore, clock: FakeClock, geo: GeoService
) -> None:
    """Two services on one store: node B pairs node A's waiting visitor; A stops pushing."""
    node_a, inbox_a = service(store, clock, geo, timeout_s=5, status_every_s=1)
    node_b, _ = service(store, clock, geo)
    fr, de = visitor("fr", "127.0.0.3", clock), visitor("de", "127.0.0.2", clock)
    await join(node_a, fr)
    await join(node_b, de)
    clock.advance(10)
    await node_a.sweep()
    assert inbox_a.of(fr, "queue-status") == []
    assert inbox_a.of(fr, "match-timeout") == []


async def test_queue_status_request_counts(
    store: MatchStore, clock: FakeClock, geo: GeoService
) -> None:
    async def counter() -> tuple[int, dict[str, int]]:
        calls.append(1)
        return 42, await store.waiting()

    calls: list[int] = []
    svc, _ = service(store, clock, geo, counter=counter)
    fr, de = visitor("fr", "127.0.0.3", clock), visitor("de", "127.0.0.2", clock)
    await join(svc, fr, countries=["AT"])
    first = await svc.queue_status(de, None)
    assert (first.online, first.waiting, first.country) == (42, 1, "DE")
    assert (await svc.queue_status(de, "text")).waiting == 0
    assert len(calls) == 1, "cached within the second"
    clock.advance(1.1)
    await svc.queue_status(fr, None)
    assert len(calls) == 2


# ------------------------------------------------------------------ the cost


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_join_cost_with_country_choices_and_4000_waiting(kind: str, request: Any) -> None:
    """Not a timed assertion: prints what one join costs (``pytest -s`` shows it).

    4,000 waiting from 40 countries (100 each, each waiting visitor in its own
    language so none pairs with another; the newcomer names none). Cases: no
    choice; "my country" whose compatriots are the 100 who waited least (the
    end of the queue); two countries; and a newcomer from a country nobody
    waiting chose, when the 450 who waited longest chose countries (under the
    Redis scan bound of 500: beyond it a Redis join waits, see redis_store).
    """
    codes = sorted(
        [
            "DE",
            "FR",
            "IT",
            "ES",
            "PL",
            "NL",
            "BE",
            "AT",
            "CH",
            "CZ",
            "SE",
            "NO",
            "DK",
            "FI",
            "PT",
            "GR",
            "HU",
            "RO",
            "BG",
            "HR",
            "SK",
            "SI",
            "IE",
            "GB",
            "US",
            "CA",
            "MX",
            "BR",
            "AR",
            "CL",
            "JP",
            "KR",
            "IN",
            "TR",
            "EG",
            "NG",
            "ZA",
            "AU",
            "NZ",
            "UA",
        ]
    )
    assert len(codes) == 40
    rounds = 100 if kind == "memory" else 30
    results: dict[str, float] = {}
    for case in ("none", "mine-tail", "two", "choosers-ahead"):
        if kind == "memory":
            store: MatchStore = MemoryMatchStore()
        else:
            client = connect_redis(request.getfixturevalue("redis_url"))
            await client.flushdb()
            store = RedisMatchStore(client)
        for i in range(4000):
            country = codes[i // 100]
            chose = frozenset({"XK"}) if case == "choosers-ahead" and i < 450 else frozenset()
            t = Ticket(
                f"w{i}",
                f"guest:w{i}",
                f"ip{i}",
                "video",
                f"l{i}",
                None,
                frozenset(),
                i,
                country,
                chose,
            )
            await store.enqueue(t, POLICY)  # straight in: pairing would walk 4,000 times
        wanted = {
            "none": (),
            "mine-tail": (codes[-1],),
            "two": (codes[-1], codes[-2]),
            "choosers-ahead": (),
        }[case]
        times: list[float] = []
        for r in range(rounds):
            me = Ticket(
                f"me{r}",
                f"guest:me{r}",
                "ipme",
                "video",
                None,
                None,
                frozenset(),
                4000,
                "XX" if case == "choosers-ahead" else None,
                frozenset(wanted),
            )
            start = time.perf_counter()
            partner = await store.pair_or_wait(me, 4000, POLICY)
            times.append(time.perf_counter() - start)
            assert partner is not None
            if wanted:
                assert partner.country in wanted
            await store.pair_or_wait(partner, 4000, POLICY)  # back in for the next round
        results[case] = statistics.median(times) * 1e6
        if isinstance(store, RedisMatchStore):
            await store._r.aclose()
    if kind == "redis":
        # The floor on this machine at this moment: one round trip to the same Redis.
        client = connect_redis(request.getfixturevalue("redis_url"))
        pings = []
        for _ in range(100):
            start = time.perf_counter()
            await client.ping()
            pings.append(time.perf_counter() - start)
        await client.aclose()
        results["(a PING round trip)"] = statistics.median(pings) * 1e6
    for case, us in results.items():
        print(f"{kind} store join, 4,000 waiting, {case}: median {us:.1f} µs")


async def test_an_update_that_finds_its_ticket_taken_is_refused(
    clock: FakeClock, geo: GeoService
) -> None:
    """Another node matched the visitor between the update's look-up and its removal."""
    from connect.errors import ConnectError

    class TakenMeanwhile(MemoryMatchStore):
        async def remove(self, client_id: str) -> Ticket | None:
            await super().remove(client_id)
            return None  # as if a match on another node had taken it first

    store = TakenMeanwhile()
    svc, _ = service(store, clock, geo)
    fr = visitor("fr", "127.0.0.3", clock)
    await join(svc, fr, language="fr")
    with pytest.raises(ConnectError) as refused:
        await svc.prepare_join(fr, JoinQueue(mode="video", update=True))
    assert refused.value.code == "already_in_session"
    assert await store.get(fr.id) is None, "nothing was queued again"
