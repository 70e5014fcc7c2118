"""Three real nodes, one Redis, one PostgreSQL, HAProxy in front (all on loopback)."""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.client import CONTRACT_VIOLATIONS, Peer, guest_token
from tests.support.cluster import Cluster, start_cluster
from tests.support.http import loopback_client
from tests.support.users import new_user

pytestmark = pytest.mark.cluster
OFFER = {"type": "offer", "sdp": "v=0\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with ExitStack() as stack:
        yield start_cluster(Path(tmp_path_factory.mktemp("cluster")), stack)


@pytest.fixture(autouse=True)
def contract() -> Iterator[None]:
    CONTRACT_VIOLATIONS.clear()
    yield
    assert CONTRACT_VIOLATIONS == []


async def connect_via(http: str, ws: str) -> Peer:
    return await Peer.connect(ws, await guest_token(http))


async def node_pair(
    cluster: Cluster, i: int, j: int, mode: str = "video"
) -> tuple[Peer, Peer, dict, dict]:  # type: ignore[type-arg]
    a = await connect_via(cluster.nodes[i].http, cluster.nodes[i].ws)
    b = await connect_via(cluster.nodes[j].http, cluster.nodes[j].ws)
    tag = [secrets.token_hex(6)]
    await a.request("join-queue", {"mode": mode, "interests": tag})
    await b.request("join-queue", {"mode": mode, "interests": tag})
    return a, b, await a.event("matched"), await b.event("matched")


async def test_400_clients_through_haproxy_are_each_paired_exactly_once(cluster: Cluster) -> None:
    async def one() -> Peer:
        return await connect_via(cluster.http, cluster.ws)

    peers = await asyncio.gather(*(one() for _ in range(400)))
    try:
        await asyncio.gather(*(p.emit("join-queue", {"mode": "text"}) for p in peers))
        matched = await asyncio.gather(*(p.event("matched", timeout=30) for p in peers))
        sessions = Counter(m["sessionId"] for m in matched)
        assert len(matched) == 400
        assert set(sessions.values()) == {2}, "every session has exactly two members"
        assert len(sessions) == 200
        for p in peers:
            assert len([f for f in p.inbox if f.get("event") == "matched"]) == 0, (
                "nobody matched twice"
            )
        spread = []
        for node in cluster.nodes:
            async with loopback_client() as http:
                detail = (await http.get(f"{node.http}/health/detailed")).json()
            spread.append(detail["connections"]["live"])
            assert sum(detail["waiting"].values()) == 0, "nobody left waiting"
        assert sum(spread) >= 400
        assert all(n > 0 for n in spread), f"HAProxy spread the load: {spread}"
    finally:
        await asyncio.gather(*(p.close() for p in peers))


async def test_pair_on_different_nodes_signals_and_chats(cluster: Cluster) -> None:
    a, b, ma, mb = await node_pair(cluster, 0, 1)
    await a.request("send-offer", {"offer": OFFER})
    assert (await b.event("offer")) == {"from": mb["peerId"], "offer": OFFER}
    await b.request("send-answer", {"answer": {"type": "answer", "sdp": "v=0\r\n"}})
    assert (await a.event("answer"))["from"] == ma["peerId"]
    await a.request("send-candidate", {"candidate": CANDIDATE})
    assert (await b.event("candidate"))["candidate"] == CANDIDATE
    await b.request("send-message", {"text": "across nodes"})
    assert (await a.event("message"))["text"] == "across nodes"
    await b.request("typing", {"active": True})
    assert (await a.event("typing"))["active"] is True
    await a.request("end-call")
    assert await b.event("peer-ended") == {"reason": "ended"}
    await a.close()
    await b.close()


async def test_a_line_after_the_partner_pressed_next_on_another_node_reaches_nobody(
    cluster: Cluster,
) -> None:
    """B (node 1) presses next and is matched again with C (node 2); A (node 0) sees the
    end and its next line is refused: neither B nor C receives it, and the lines before
    the end were delivered and are in the order sent."""
    a, b, c = [await connect_via(n.http, n.ws) for n in cluster.nodes]
    tag = [secrets.token_hex(6)]
    await a.request("join-queue", {"mode": "text", "interests": tag})
    await b.request("join-queue", {"mode": "text", "interests": tag})
    first = (await b.event("matched"))["sessionId"]
    await a.event("matched")
    assert (await a.request("send-message", {"text": "before"}))["ok"]
    assert (await b.event("message"))["text"] == "before"
    assert (await b.request("next", {}))["ok"]  # queued again with the same interests
    assert await a.event("peer-ended") == {"reason": "skipped"}
    await c.request("join-queue", {"mode": "text", "interests": tag})
    assert (await b.event("matched"))["sessionId"] != first
    await c.event("matched")
    refused = await a.request("send-message", {"text": "after next"})
    assert refused["error"]["code"] == "not_in_session"
    typing = await a.request("typing", {"active": True})
    assert typing["error"]["code"] == "not_in_session"
    # What B and C receive next is C's line: nothing of A's was routed before it.
    assert (await c.request("send-message", {"text": "from c"}))["ok"]
    assert (await b.event("message"))["text"] == "from c"
    assert b.events("message") == []
    assert b.events("typing") == []
    assert c.events("message") == []
    for p in (a, b, c):
        await p.close()


async def test_lines_sent_back_to_back_across_nodes_arrive_in_order_once(
    cluster: Cluster,
) -> None:
    """Senders on two nodes each emit 40 lines and an end mark without waiting, so each
    node's outbox has many frames queued at once and routes them together (one pipeline
    of ROUTE calls): every partner receives its 40 lines, each once, in the order sent,
    then the end mark (a line routed twice would arrive before it)."""
    pairs = [await node_pair(cluster, i % 2, 1 - i % 2, "text") for i in range(6)]
    sent = [f"{n}" for n in range(40)] + ["end"]  # inside the per-socket event burst (60)

    async def talk(a: Peer) -> None:
        for text in sent:
            await a.emit("send-message", {"text": text})

    await asyncio.gather(*(talk(a) for a, _, _, _ in pairs))
    for a, b, _, _ in pairs:
        got = [(await b.event("message"))["text"] for _ in sent]
        assert got == sent
        assert b.events("message") == []
        await a.close()
        await b.close()


async def test_a_resumed_socket_on_another_node_keeps_its_session(cluster: Cluster) -> None:
    a, b, _, _ = await node_pair(cluster, 0, 1)
    a.abort()
    await b.event("peer-reconnecting", timeout=10)
    await b.request("send-message", {"text": "during the gap"})
    back = await Peer.connect(cluster.nodes[2].ws, a.token, resume=a.welcome["resumeToken"])
    assert back.welcome["resumed"] is True
    assert (await back.event("message"))["text"] == "during the gap"
    await b.event("peer-reconnected")
    await back.request("send-message", {"text": "hello from node 2"})
    assert (await b.event("message"))["text"] == "hello from node 2"
    await back.close()
    await b.close()


async def test_sigterm_mid_call_clients_resume_on_another_node(cluster: Cluster) -> None:
    a, b, _, _ = await node_pair(cluster, 0, 1)
    cluster.kill(0, signal.SIGTERM)
    code, _ = await a.wait_closed(timeout=15)
    assert code == 1012
    await b.event("peer-reconnecting", timeout=10)
    back = await Peer.connect(cluster.ws, a.token, resume=a.welcome["resumeToken"])
    assert back.welcome["resumed"] is True
    await b.event("peer-reconnected", timeout=10)
    await back.request("send-offer", {"offer": OFFER})
    assert (await b.event("offer"))["offer"] == OFFER
    await b.request("send-message", {"text": "still talking"})
    assert (await back.event("message"))["text"] == "still talking"
    await back.close()
    await b.close()
    cluster.start_node(0)


async def test_sigkill_partner_is_told_within_grace_plus_5s(cluster: Cluster) -> None:
    a, b, _, _ = await node_pair(cluster, 2, 1)
    killed = time.monotonic()
    cluster.kill(2, signal.SIGKILL)
    await b.event("peer-reconnecting", timeout=10)
    ended = await b.event("peer-ended", timeout=4 + 5)
    assert ended == {"reason": "disconnected"}
    assert time.monotonic() - killed <= 4 + 5
    a.abort()
    await b.close()
    cluster.start_node(2)


async def test_writes_through_any_node_are_all_there(cluster: Cluster) -> None:
    from tests.support.staff import login

    alice = await new_user(cluster.nodes[0], "Alice")
    bob = await new_user(cluster.nodes[1], "Bob")
    alice.server = cluster.nodes[1]
    r = await alice.call("POST", "/api/channels", json={"userId": bob.id})
    channel = r.json()["id"]
    for i, node in enumerate(cluster.nodes):
        alice.server = node
        r = await alice.call(
            "POST",
            f"/api/channels/{channel}/messages",
            json={"text": f"via {i}", "clientId": f"c{i}"},
        )
        assert r.status_code == 201, r.text
    bob.server = cluster.nodes[2]
    texts = [
        m["text"]
        for m in (await bob.call("GET", f"/api/channels/{channel}/messages")).json()["messages"]
    ]
    assert texts == ["via 0", "via 1", "via 2"]

    report_ids = []
    for i in range(3):
        a, b, ma, _ = await node_pair(cluster, i, (i + 1) % 3)
        async with loopback_client(base_url=cluster.nodes[(i + 2) % 3].http) as http:
            r = await http.post(
                "/api/reports",
                json={"sessionId": ma["sessionId"], "reason": "spam"},
                headers={"Authorization": f"Bearer {a.token}"},
            )
            assert r.status_code == 201, r.text
            report_ids.append(r.json()["id"])
        await a.close()
        await b.close()
    email, password = f"adm-{secrets.token_hex(3)}@example.test", secrets.token_urlsafe(12)
    assert (
        cluster.nodes[0].cli("create-admin", "--email", email, f"--password={password}").returncode
        == 0
    )
    admin = await login(cluster.nodes[1], email, password)
    queue = (await admin.call("GET", "/api/admin/reports?limit=200")).json()["reports"]
    assert set(report_ids) <= {r["id"] for r in queue}


async def test_a_user_on_two_nodes_gets_pushes_on_both(cluster: Cluster) -> None:
    alice = await new_user(cluster.nodes[0], "Alice")
    bob = await new_user(cluster.nodes[0], "Bob")
    bob.server = cluster.nodes[1]
    phone = await bob.device()
    bob.server = cluster.nodes[2]
    laptop = await bob.device()
    channel = (await alice.call("POST", "/api/channels", json={"userId": bob.id})).json()["id"]
    sent = (
        await alice.call(
            "POST", f"/api/channels/{channel}/messages", json={"text": "both", "clientId": "x1"}
        )
    ).json()
    assert (await phone.event("channel-message"))["id"] == sent["id"]
    assert (await laptop.event("channel-message"))["id"] == sent["id"]
    await phone.close()
    await laptop.close()


async def test_a_guest_named_like_an_account_gets_nothing_of_it_on_any_node(
    cluster: Cluster,
) -> None:
    """The guest-as-account attack across nodes: the guest's socket is on node 0, the
    account's on node 1, the sender talks to node 2; the registry keys typed subjects."""
    alice = await new_user(cluster.nodes[2], "Alice")
    bob = await new_user(cluster.nodes[2], "Bob")
    intruder = await Peer.connect(
        cluster.nodes[0].ws, await guest_token(cluster.nodes[0].http, bob.id)
    )
    bob_dev = await Peer.connect(cluster.nodes[1].ws, bob.access)
    alice_dev = await Peer.connect(cluster.nodes[2].ws, alice.access)
    channel = (await alice.call("POST", "/api/channels", json={"userId": bob.id})).json()["id"]
    sent = await alice.call(
        "POST", f"/api/channels/{channel}/messages", json={"text": "hi Bob", "clientId": "x1"}
    )
    assert sent.status_code == 201, sent.text
    assert (await bob_dev.event("channel-message"))["text"] == "hi Bob"
    ring = await alice.call(
        "POST",
        "/api/calls",
        json={
            "calleeId": bob.id,
            "media": "audio",
            "connectionId": alice_dev.welcome["connectionId"],
        },
    )
    assert ring.status_code == 201, ring.text
    await bob_dev.event("incoming-call")
    bob.server = cluster.nodes[0]
    accepted = await bob.call(
        "POST", f"/api/calls/{ring.json()['callId']}/respond", json={"accept": True}
    )
    assert accepted.status_code == 200, accepted.text
    assert (await bob_dev.event("call-accepted"))["initiator"] is False
    # Later frames to the intruder prove the earlier ones would have arrived by now.
    await intruder.barrier()
    assert {f.get("event") for f in intruder.inbox}.isdisjoint(
        {"channel-message", "incoming-call", "call-accepted"}
    )
    claimed = await Peer.connect(
        cluster.nodes[2].ws, intruder.token, resume=bob_dev.welcome["resumeToken"]
    )
    assert claimed.welcome["resumed"] is False
    for peer in (intruder, bob_dev, alice_dev, claimed):
        await peer.close()
