"""Redis faults heal by themselves: two real nodes, one real PostgreSQL, one real Redis that
the test restarts (SIGTERM, same port) or stalls (SIGSTOP/SIGCONT) while clients chat
through both nodes.

During each fault two users exchange contacts messages over REST (each pushed to the
other's device on the other node) and a stranger pair split over the nodes exchanges chat
lines. Counted: what was acknowledged, stored, delivered, lost and duplicated. Checked:
nothing acknowledged is lost, no node is restarted, the cluster delivers across nodes again
within ``RECOVERY_BOUND_S`` of Redis' return, ``/health/ready`` says 503 while Redis is away
and 200 only when a cross-node delivery works, and the logs hold no Traceback.

The figures of each run are written to ``<tmp>/redis-faults.json`` and printed (``-s``);
docs/operations.md ("Redis faults") quotes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from connect.gateway.cluster import Cluster as GatewayCluster
from connect.gateway.cluster.registry import _s
from connect.storage.redis import PREFIX
from connect.storage.redis import connect as connect_redis
from tests.support.client import CONTRACT_VIOLATIONS, Peer, guest_token
from tests.support.cluster import Cluster
from tests.support.faults import (
    RedisProcess,
    ResilientPeer,
    ready,
    redis_process,
    tracebacks,
    until,
)
from tests.support.http import loopback_client, loopback_sync_client
from tests.support.server import Server
from tests.support.services import create_database, postgres_server
from tests.support.users import User, new_user

pytestmark = pytest.mark.cluster

DOWN_S = 8.0  # longer than the Redis client's 5 s socket timeout and the 2 s death horizon
RECOVERY_BOUND_S = 15.0  # Redis back -> both nodes ready and delivering across nodes
DETECT_BOUND_S = 4.0  # Redis gone -> /health/ready says 503 on both nodes
SETTLE_S = 20.0  # after the senders stop: what was acknowledged has arrived
PACE_S = 0.1  # one message per sender per 100 ms


@dataclass
class Rig:
    cluster: Cluster
    redis: RedisProcess
    work: Path
    pids: list[int] = field(default_factory=list)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    work = Path(tmp_path_factory.mktemp("redis-faults"))
    with ExitStack() as stack:
        redis = stack.enter_context(redis_process(work / "redis"))
        pg = stack.enter_context(postgres_server(work / "pg"))
        cluster = Cluster(
            work,
            redis.url,
            create_database(pg, "connect_faults"),
            {"CONNECT_RESUME_GRACE_S": "10"},
        )
        stack.callback(cluster.stop)
        for i in range(2):
            cluster.start_node(i)
        yield Rig(cluster, redis, work, [n.proc.pid for n in cluster.nodes])


@pytest.fixture(autouse=True)
def contract() -> Iterator[None]:
    CONTRACT_VIOLATIONS.clear()
    yield
    assert CONTRACT_VIOLATIONS == []


@dataclass
class Tally:
    """One direction of one kind of traffic."""

    acked: dict[str, str] = field(default_factory=dict)  # key -> text
    refused: Counter[str] = field(default_factory=Counter)  # error code or HTTP status
    unknown: int = 0  # the socket or connection ended before the answer

    def figures(self, received: list[str], stored: set[str] | None = None) -> dict[str, Any]:
        counts = Counter(received)
        out: dict[str, Any] = {
            "acked": len(self.acked),
            "refused": dict(self.refused),
            "unknown": self.unknown,
            "delivered": sum(1 for k in self.acked if counts[k] > 0),
            "lost": sorted(k for k in self.acked if counts[k] == 0),
            "duplicated": sum(n - 1 for n in counts.values() if n > 1),
        }
        if stored is not None:
            out["stored"] = sum(1 for k in self.acked if k in stored)
        return out


async def until_each_acked(tallies: dict[str, Tally], more: int) -> None:
    """Traffic, not time: until every direction has ``more`` acknowledged messages beyond
    what it had when called (the senders keep one per ``PACE_S``)."""
    base = {k: len(t.acked) for k, t in tallies.items()}

    async def enough() -> bool:
        return all(len(t.acked) >= base[k] + more for k, t in tallies.items())

    await until(enough, 30.0, f"{more} more acknowledged messages each way")


async def contacts_sender(
    user: User, node: Server, channel: str, prefix: str, stop: asyncio.Event, tally: Tally
) -> None:
    async with loopback_client(base_url=node.http, headers=user.headers, timeout=30) as http:
        i = 0
        while not stop.is_set():
            i += 1
            text = f"{prefix}-{i}"
            try:
                r = await http.post(
                    f"/api/channels/{channel}/messages", json={"text": text, "clientId": text}
                )
            except httpx.HTTPError:
                tally.unknown += 1
            else:
                if r.status_code == 201:
                    tally.acked[r.json()["id"]] = text
                else:
                    tally.refused[f"{r.status_code} {r.json().get('code', '')}"] += 1
                    assert r.status_code != 500, r.text
            await asyncio.sleep(PACE_S)  # the sending pace, not a synchronisation


async def stranger_sender(
    peer: ResilientPeer, prefix: str, stop: asyncio.Event, tally: Tally
) -> None:
    i = 0
    while not stop.is_set():
        i += 1
        text = f"{prefix}-{i}"
        ack = await peer.request("send-message", {"text": text})
        if ack is None:
            tally.unknown += 1
        elif ack["ok"]:
            tally.acked[text] = text
        else:
            tally.refused[ack["error"]["code"]] += 1
            assert ack["error"]["code"] != "internal_error", ack
        await asyncio.sleep(PACE_S)  # the sending pace, not a synchronisation


async def acknowledger(user: User, node: Server, dev: ResilientPeer) -> None:
    """Acknowledge received pushes as the apps do (``POST /api/messages/delivered``), so a
    resumed hello re-pushes only what is still undelivered."""
    done: set[str] = set()
    async with loopback_client(base_url=node.http, headers=user.headers, timeout=10) as http:
        while True:
            fresh = [m["id"] for m in dev.events("channel-message") if m["id"] not in done]
            if fresh:
                with contextlib.suppress(httpx.HTTPError):
                    r = await http.post("/api/messages/delivered", json={"ids": fresh[:100]})
                    if r.status_code == 200:
                        done.update(fresh[:100])
            await asyncio.sleep(0.3)  # the acknowledging pace of a client


async def stored_ids(user: User, node: Server, channel: str) -> set[str]:
    ids: set[str] = set()
    after = 0
    async with loopback_client(base_url=node.http, headers=user.headers, timeout=10) as http:
        while True:
            r = await http.get(
                f"/api/channels/{channel}/messages", params={"after": after, "limit": 200}
            )
            assert r.status_code == 200, r.text
            page = r.json()["messages"]
            if not page:
                return ids
            ids.update(m["id"] for m in page)
            after = max(m["seq"] for m in page)


class ReadyLog:
    """``/health/ready`` of each node sampled every 250 ms by a thread of its own (so a
    busy test loop or a slow answer during a stall does not thin the samples), with the
    time each request was sent and answered."""

    def __init__(self, nodes: list[Server]) -> None:
        self.samples: list[tuple[float, float, int, int]] = []  # (sent, answered, node, status)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i, node), daemon=True)
            for i, node in enumerate(nodes)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, i: int, node: Server) -> None:
        with loopback_sync_client(base_url=node.http, timeout=5.0) as http:
            while not self._stop.is_set():
                sent = time.monotonic()
                try:
                    status = http.get("/health/ready").status_code
                except httpx.HTTPError:
                    status = 0
                self.samples.append((sent, time.monotonic(), i, status))
                self._stop.wait(0.25)  # the sampling period

    async def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            await asyncio.to_thread(thread.join, 10)


async def run_fault(rig: Rig, fault: str) -> dict[str, Any]:
    n0, n1 = rig.cluster.nodes
    alice = await new_user(n0, "Alice")
    bob = await new_user(n1, "Bob")
    channel = (await alice.call("POST", "/api/channels", json={"userId": bob.id})).json()["id"]
    alice_dev = await ResilientPeer.connect(n0.ws, alice.access)
    bob_dev = await ResilientPeer.connect(n1.ws, bob.access)
    a = await ResilientPeer.connect(n0.ws, await guest_token(n0.http))
    b = await ResilientPeer.connect(n1.ws, await guest_token(n1.http))
    tag = secrets.token_hex(6)
    for p in (a, b):
        assert (await p.request("join-queue", {"mode": "text", "interests": [tag]}))["ok"]
    await a.peer.event("matched", timeout=10)
    await b.peer.event("matched", timeout=10)

    def pushed_to(dev: ResilientPeer, sender: User) -> list[str]:
        return [m["id"] for m in dev.events("channel-message") if m["senderId"] == sender.id]

    def said_to(peer: ResilientPeer, prefix: str) -> list[str]:
        return [m["text"] for m in peer.events("message") if m["text"].startswith(prefix)]

    chat_survives = fault != "wipe"  # an empty Redis has forgotten the stranger session

    async def crosses(probe: str) -> bool:
        """A fresh message, and a chat line, cross from node 0 to node 1 within 3 s."""
        r = await alice.call(
            "POST",
            f"/api/channels/{channel}/messages",
            json={"text": probe, "clientId": probe},
        )
        if r.status_code != 201:
            return False
        mid = r.json()["id"]
        if chat_survives:
            ack = await a.request("send-message", {"text": probe}, timeout=3)
            if ack is None or not ack["ok"]:
                return False

        async def arrived() -> bool:
            return mid in pushed_to(bob_dev, alice) and (
                not chat_survives or probe in said_to(b, probe)
            )

        try:
            await until(arrived, 3.0, "probe", every=0.05)
        except AssertionError:
            return False
        return True

    ackers = [
        asyncio.create_task(acknowledger(alice, n0, alice_dev)),
        asyncio.create_task(acknowledger(bob, n1, bob_dev)),
    ]
    assert await crosses("warm-0"), "the cluster delivers across nodes before the fault"
    log = ReadyLog([n0, n1])
    stop = asyncio.Event()
    tallies = {k: Tally() for k in ("rest a->b", "rest b->a", "chat a->b", "chat b->a")}
    senders = [
        asyncio.create_task(contacts_sender(alice, n0, channel, "ra", stop, tallies["rest a->b"])),
        asyncio.create_task(contacts_sender(bob, n1, channel, "rb", stop, tallies["rest b->a"])),
        asyncio.create_task(stranger_sender(a, "ca", stop, tallies["chat a->b"])),
        asyncio.create_task(stranger_sender(b, "cb", stop, tallies["chat b->a"])),
    ]
    figures: dict[str, Any] = {"fault": fault, "downS": DOWN_S}
    try:
        await until_each_acked(tallies, 20)  # traffic before the fault
        t_fault = time.monotonic()
        if fault == "stall":
            rig.redis.pause()
        else:
            rig.redis.stop()
            if fault == "wipe":
                rig.redis.wipe()
        t_gone = time.monotonic()  # Redis has exited (a SIGTERM'd Redis answers until then)
        figures["detectS"] = round(
            await until(lambda: _all_status(rig, 503), DETECT_BOUND_S + 3, "both nodes not ready"),
            2,
        )
        await asyncio.sleep(max(0.0, DOWN_S - (time.monotonic() - t_fault)))  # the outage
        t_back = time.monotonic()
        if fault == "stall":
            rig.redis.resume()
        else:
            rig.redis.start()
        figures["readyS"] = round(
            await until(lambda: _all_status(rig, 200), RECOVERY_BOUND_S, "both nodes ready"), 2
        )
        probe = iter(range(1, 1000))
        assert await crosses(f"probe-{next(probe)}"), "ready said 200: delivery must work"
        figures["recoveryS"] = round(time.monotonic() - t_back, 2)
        # A new stranger pair split over the nodes is matched on both sides.
        x = await ResilientPeer.connect(n0.ws, await guest_token(n0.http))
        y = await ResilientPeer.connect(n1.ws, await guest_token(n1.http))
        tag = secrets.token_hex(6)
        for p in (x, y):
            assert (await p.request("join-queue", {"mode": "text", "interests": [tag]}))["ok"]
        mx, my = await x.peer.event("matched", timeout=5), await y.peer.event("matched", timeout=5)
        assert mx["sessionId"] == my["sessionId"]
        await x.close()
        await y.close()
        # How long traffic runs after the recovery: a duration, not a wait for an event
        # (after an emptied Redis a stranger session may be refused for good).
        await asyncio.sleep(3.0)
    finally:
        stop.set()
        await asyncio.gather(*senders, return_exceptions=False)
        await log.stop()

    ra, rb = tallies["rest a->b"], tallies["rest b->a"]
    ca, cb = tallies["chat a->b"], tallies["chat b->a"]

    async def settled() -> bool:
        return (
            set(ra.acked) <= set(pushed_to(bob_dev, alice))
            and set(rb.acked) <= set(pushed_to(alice_dev, bob))
            and set(ca.acked) <= set(said_to(b, "ca-"))
            and set(cb.acked) <= set(said_to(a, "cb-"))
        )

    with contextlib.suppress(AssertionError):
        await until(settled, SETTLE_S, "everything acknowledged arrived")
    stored = await stored_ids(alice, n0, channel)
    figures["rest a->b"] = ra.figures(pushed_to(bob_dev, alice), stored)
    figures["rest b->a"] = rb.figures(pushed_to(alice_dev, bob), stored)
    figures["chat a->b"] = ca.figures(said_to(b, "ca-"))
    figures["chat b->a"] = cb.figures(said_to(a, "cb-"))
    figures["closes"] = {
        name: p.closes for name, p in (("alice", alice_dev), ("bob", bob_dev), ("a", a), ("b", b))
    }
    figures["freshHellos"] = sum(p.fresh for p in (alice_dev, bob_dev, a, b))

    # /health/ready told the truth: 503 from shortly after the fault until Redis was back,
    # 200 before the fault; samples answered between the fault and the return never 200.
    t_end = t_back
    early = [s for s in log.samples if s[1] < t_fault]
    during = [s for s in log.samples if t_fault + DETECT_BOUND_S <= s[0] and s[1] < t_end]
    wrong = [s for s in log.samples if t_gone <= s[0] and s[1] < t_end and s[3] == 200]
    figures["readySamples"] = {"before": len(early), "during": len(during)}
    figures["backAtS"] = round(t_back - t_fault, 3)
    (rig.work / f"ready-{fault}.json").write_text(
        json.dumps(
            [(round(a - t_fault, 3), round(b - t_fault, 3), n, st) for a, b, n, st in log.samples]
        )
    )
    print(json.dumps(figures, indent=1))  # the figures docs/operations.md quotes
    path = rig.work / "redis-faults.json"
    runs = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps([*runs, figures], indent=1))

    for task in ackers:
        task.cancel()
    await asyncio.gather(*ackers, return_exceptions=True)
    for p in (alice_dev, bob_dev, a, b):
        await p.close()
    assert all(s[3] == 200 for s in early), early
    assert during
    assert all(s[3] == 503 for s in during), during
    assert wrong == [], f"ready said 200 while Redis was away: {wrong}"
    for key in ("rest a->b", "rest b->a", "chat a->b", "chat b->a"):
        assert figures[key]["lost"] == [], f"{key}: acknowledged but never delivered"
        assert figures[key]["acked"] > 0
    for key in ("rest a->b", "rest b->a"):
        assert figures[key]["stored"] == figures[key]["acked"], "acknowledged means stored"
    assert figures["freshHellos"] == 0, "every client got its place back"
    assert [n.proc.pid for n in rig.cluster.nodes] == rig.pids, "no node was restarted"
    assert all(n.proc.poll() is None for n in rig.cluster.nodes)
    for node in rig.cluster.nodes:
        assert tracebacks(node) == [], node.log()[-4000:]
    return figures


async def _all_status(rig: Rig, status: int) -> bool:
    return all(s == status for s in await asyncio.gather(*(ready(n) for n in rig.cluster.nodes)))


async def test_redis_restart_heals_without_loss(rig: Rig) -> None:
    await run_fault(rig, "restart")


async def test_redis_stall_is_nobodys_death(rig: Rig) -> None:
    before = [len(node.log()) for node in rig.cluster.nodes]
    figures = await run_fault(rig, "stall")
    # A stall keeps the subscriptions: nobody was declared dead, no socket had to resume.
    for node, start in zip(rig.cluster.nodes, before, strict=True):
        assert "cluster_node_dead" not in node.log()[start:]
    assert all(closes == [] for closes in figures["closes"].values()), figures["closes"]


async def test_redis_restarted_empty_rebuilds_the_registry(rig: Rig) -> None:
    """Redis back without its data: each node re-registers the places it holds, so pushes
    and resumes work again; the stranger sessions Redis held are gone (their lines are
    refused, never acknowledged and lost)."""
    await run_fault(rig, "wipe")


async def test_a_line_relayed_to_a_node_that_just_died_arrives_after_the_resume(
    rig: Rig,
) -> None:
    n0, n1 = rig.cluster.nodes
    a = await Peer.connect(n0.ws, await guest_token(n0.http))
    b = await Peer.connect(n1.ws, await guest_token(n1.http))
    tag = [secrets.token_hex(6)]
    assert (await a.request("join-queue", {"mode": "text", "interests": tag}))["ok"]
    assert (await b.request("join-queue", {"mode": "text", "interests": tag}))["ok"]
    await a.event("matched")
    await b.event("matched")
    rig.cluster.kill(1, signal.SIGKILL)
    ack = await a.request("send-message", {"text": "to a node that just died"})
    assert ack["ok"] is True, ack
    back = await Peer.connect(n0.ws, b.token, resume=b.welcome["resumeToken"])
    assert back.welcome["resumed"] is True
    assert (await back.event("message"))["text"] == "to a node that just died"
    await back.request("send-message", {"text": "and back"})
    assert (await a.event("message"))["text"] == "and back"
    await a.close()
    await back.close()
    b.abort()
    rig.cluster.start_node(1)
    rig.pids = [n.proc.pid for n in rig.cluster.nodes]
    assert tracebacks(rig.cluster.nodes[0]) == []


async def test_after_a_stall_a_silent_node_is_judged_only_after_it_could_beat(
    tmp_path: Path,
) -> None:
    """The death rule itself, on a Redis of its own: a heartbeat written before a stall
    never condemns its node; silence after the stall, for the whole horizon, does."""
    with redis_process(tmp_path / "redis", persist=False) as server:
        client = connect_redis(server.url)
        try:
            a = GatewayCluster(client, "a", grace_s=4, dead_after_s=1.0)
            b = GatewayCluster(client, "b", grace_s=4, dead_after_s=1.0)
            assert await a._beat() is False  # a new node: Redis did not know it
            await b._beat()
            assert await a._beat() is True

            async def silent() -> list[str]:
                found = await a._silent(keys=[f"{PREFIX}nodes", f"{PREFIX}beat:since"], args=[1.0])
                return sorted(_s(x) for x in found)

            server.pause()
            await asyncio.sleep(1.5)  # the stall under test: longer than the horizon
            server.resume()
            await a._beat()  # a is back first; b has not beaten since before the stall
            assert await silent() == [], "judged on a heartbeat written before the stall"

            async def b_judged() -> bool:
                await a._beat()
                return await silent() == ["b"]

            waited = await until(b_judged, 5.0, "b judged after a silent horizon", every=0.1)
            assert waited >= 0.9, "not before b had the whole horizon to beat again"
        finally:
            await client.aclose()


async def test_a_node_cut_off_past_the_death_horizon_takes_back_what_is_still_kept(
    rig: Rig,
) -> None:
    """A node frozen (SIGSTOP) longer than the death horizon but shorter than the grace
    period: the survivor orphans its places and tells the partners ``peer-reconnecting``;
    when it thaws it finds itself judged dead, takes its places back, and its sockets are
    told (1012) so they resume: the partner gets ``peer-reconnected`` and the pair chats.
    Frozen past the grace period too, the places are ended (the partner gets ``peer-ended``)
    and the thawed node does not bring them back: the resume starts over."""
    n0, n1 = rig.cluster.nodes
    for freeze_s, kept in ((4.0, True), (14.0, False)):
        a = await Peer.connect(n0.ws, await guest_token(n0.http))
        b = await ResilientPeer.connect(n1.ws, await guest_token(n1.http))
        tag = [secrets.token_hex(6)]
        assert (await a.request("join-queue", {"mode": "text", "interests": tag}))["ok"]
        assert (await b.request("join-queue", {"mode": "text", "interests": tag}))["ok"]
        await a.event("matched")
        n1.proc.send_signal(signal.SIGSTOP)
        try:
            await a.event("peer-reconnecting", timeout=8)
            if not kept:
                assert await a.event("peer-ended", timeout=16) == {"reason": "disconnected"}
            await asyncio.sleep(max(0.0, freeze_s - 4.0))  # the rest of the freeze
        finally:
            n1.proc.send_signal(signal.SIGCONT)

        async def came_back(b: ResilientPeer = b) -> bool:
            return len(b.peers) > 1 and b.peer.welcome != {}

        await until(came_back, 10.0, "the frozen node's socket told to resume")
        assert b.closes == [1012]
        if kept:
            assert b.resumes == 1
            assert await a.event("peer-reconnected", timeout=5) == {}
            assert (await b.request("send-message", {"text": "thawed"}))["ok"]
            assert (await a.event("message"))["text"] == "thawed"
        else:
            assert b.fresh == 1, "a place ended by the survivor is not brought back"
        await a.close()
        await b.close()
    assert [n.proc.pid for n in rig.cluster.nodes] == rig.pids
    for node in rig.cluster.nodes:
        assert tracebacks(node) == [], node.log()[-3000:]


async def test_a_place_expiring_while_redis_is_down_is_ended_once_it_returns(rig: Rig) -> None:
    """The grace period of a dropped socket runs out while Redis is away: the expiry does not
    die with an unretrieved exception; the place is ended when Redis answers again and the
    partner on the other node gets ``peer-ended``."""
    n0, n1 = rig.cluster.nodes
    c = await Peer.connect(n1.ws, await guest_token(n1.http))
    d = await ResilientPeer.connect(n0.ws, await guest_token(n0.http))
    tag = [secrets.token_hex(6)]
    assert (await c.request("join-queue", {"mode": "text", "interests": tag}))["ok"]
    assert (await d.request("join-queue", {"mode": "text", "interests": tag}))["ok"]
    await c.event("matched")
    start = len(n1.log())
    c.abort()
    dropped = time.monotonic()
    assert await d.peer.event("peer-reconnecting", timeout=5) == {}
    await asyncio.sleep(max(0.0, 5.0 - (time.monotonic() - dropped)))  # half the grace (10 s)
    rig.redis.stop()
    try:
        await asyncio.sleep(max(0.0, 12.0 - (time.monotonic() - dropped)))  # expiry falls in
    finally:
        rig.redis.start()

    async def ended() -> bool:
        return {"reason": "disconnected"} in d.events("peer-ended")

    await until(ended, 10.0, "the partner told the place ended")
    assert "place_end_deferred" in n1.log()[start:]
    await d.close()
    for node in rig.cluster.nodes:
        assert tracebacks(node) == [], node.log()[-3000:]
