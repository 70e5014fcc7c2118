"""The messenger layer across nodes (three real nodes, one Redis, one PostgreSQL, loopback):
channel creation, receipts, edits and deletes reach the other node; presence follows a
user's places on every node, including when the node holding them dies."""

from __future__ import annotations

import dataclasses
import signal
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import CONTRACT_VIOLATIONS, Peer
from tests.support.cluster import Cluster, start_cluster
from tests.support.users import User, new_user

MARKER_S = 15.0

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with ExitStack() as stack:
        yield start_cluster(Path(tmp_path_factory.mktemp("messenger-cluster")), stack, nodes=3)


@pytest.fixture(autouse=True)
def contract() -> Iterator[None]:
    CONTRACT_VIOLATIONS.clear()
    yield
    assert CONTRACT_VIOLATIONS == []


def on(user: User, cluster: Cluster, node: int) -> User:
    """The same account, talking REST to one particular node."""
    return dataclasses.replace(user, server=cluster.nodes[node])


async def presence(dev: Peer, user: User, online: bool) -> dict[str, Any]:
    def match(f: dict[str, Any]) -> bool:
        d = f.get("data") or {}
        return (
            f.get("event") == "presence"
            and d.get("userId") == user.id
            and d.get("online") is online
        )

    data: dict[str, Any] = (await dev.take(match, f"presence {online}", MARKER_S))["data"]
    return data


async def test_channel_receipts_edits_and_deletes_reach_the_other_node(cluster: Cluster) -> None:
    ann = on(await new_user(cluster.nodes[0], "Ann"), cluster, 0)
    bob = on(await new_user(cluster.nodes[0], "Bob"), cluster, 1)
    a_dev = await Peer.connect(cluster.nodes[0].ws, ann.access)
    b_dev = await Peer.connect(cluster.nodes[1].ws, bob.access)
    try:
        r = await ann.call("POST", "/api/channels", json={"userId": bob.id})
        assert r.status_code == 200, r.text
        cid = r.json()["id"]
        created = await b_dev.event("channel-created", MARKER_S)
        assert created["id"] == cid
        assert created["peer"]["id"] == ann.id

        r = await ann.call(
            "POST",
            f"/api/channels/{cid}/messages",
            json={"text": "across", "clientId": uuid.uuid4().hex},
        )
        assert r.status_code == 201, r.text
        m = r.json()
        assert (await b_dev.event("channel-message", MARKER_S))["id"] == m["id"]
        assert (await b_dev.request("messages-delivered", {"ids": [m["id"]]}))["acknowledged"] == 1
        delivered = await a_dev.event("message-receipt", MARKER_S)
        assert delivered["status"] == "delivered"
        assert delivered["messageIds"] == [m["id"]]
        r = await bob.call("POST", f"/api/channels/{cid}/read", json={"seq": m["seq"]})
        assert r.status_code == 204
        read = await a_dev.event("message-receipt", MARKER_S)
        assert read["status"] == "read"
        assert read["upToSeq"] == m["seq"]

        r = await ann.call("PATCH", f"/api/messages/{m['id']}", json={"text": "edited"})
        assert r.status_code == 200, r.text
        edited = await b_dev.event("message-edited", MARKER_S)
        assert edited["text"] == "edited"
        assert edited["editedAt"] is not None
        r = await bob.call("POST", f"/api/messages/{m['id']}/reactions", json={"emoji": "🫶"})
        assert r.status_code == 204, r.text
        assert (await a_dev.event("message-reaction", MARKER_S))["emoji"] == "🫶"
        assert (await ann.call("DELETE", f"/api/messages/{m['id']}")).status_code == 204
        deleted = await b_dev.event("message-deleted", MARKER_S)
        assert deleted["messageId"] == m["id"]
    finally:
        await a_dev.close()
        await b_dev.close()


async def test_receipt_latency_across_nodes(cluster: Cluster) -> None:
    """send (node 0) → delivered / read receipt pushed back from node 1: medians of runs."""
    ann = on(await new_user(cluster.nodes[0], "Ann"), cluster, 0)
    bob = on(await new_user(cluster.nodes[0], "Bob"), cluster, 1)
    cid = (await ann.call("POST", "/api/channels", json={"userId": bob.id})).json()["id"]
    a_dev = await Peer.connect(cluster.nodes[0].ws, ann.access)
    b_dev = await Peer.connect(cluster.nodes[1].ws, bob.access)
    delivered, read = [], []
    try:
        for i in range(15):
            t0 = time.perf_counter()
            r = await ann.call(
                "POST",
                f"/api/channels/{cid}/messages",
                json={"text": f"ping {i}", "clientId": uuid.uuid4().hex},
            )
            m = r.json()
            assert (await b_dev.event("channel-message", MARKER_S))["id"] == m["id"]
            await b_dev.request("messages-delivered", {"ids": [m["id"]]})
            assert (await a_dev.event("message-receipt", MARKER_S))["status"] == "delivered"
            delivered.append(time.perf_counter() - t0)
            r = await bob.call("POST", f"/api/channels/{cid}/read", json={"seq": m["seq"]})
            assert r.status_code == 204
            assert (await a_dev.event("message-receipt", MARKER_S))["status"] == "read"
            read.append(time.perf_counter() - t0)
    finally:
        await a_dev.close()
        await b_dev.close()
    d_ms, r_ms = statistics.median(delivered) * 1000, statistics.median(read) * 1000
    print(f"\ncluster receipts: send→delivered median {d_ms:.1f} ms, send→read {r_ms:.1f} ms")
    assert d_ms < 2000
    assert r_ms < 3000


async def test_presence_follows_places_on_every_node_and_a_dead_node(cluster: Cluster) -> None:
    ann = on(await new_user(cluster.nodes[0], "Ann"), cluster, 0)
    bob = on(await new_user(cluster.nodes[0], "Bob"), cluster, 0)
    r = await ann.call("POST", "/api/channels", json={"userId": bob.id})
    assert r.status_code == 200, r.text
    b_dev = await Peer.connect(cluster.nodes[0].ws, bob.access)
    try:
        a1 = await Peer.connect(cluster.nodes[1].ws, ann.access)
        await presence(b_dev, ann, True)
        a2 = await Peer.connect(cluster.nodes[2].ws, ann.access)
        await a1.close()  # Ann still holds a place on node 2: she stays online
        seen = (await bob.call("GET", "/api/presence")).json()["presence"]
        assert [p["online"] for p in seen if p["userId"] == ann.id] == [True]

        cluster.kill(2, signal.SIGKILL)
        # Node 2's heartbeat lapses (2 s), its places wait the grace (4 s), then a
        # survivor ends them and Bob is told, on node 0, that Ann went offline.
        off = await presence(b_dev, ann, False)
        assert off["lastSeenAt"] is not None
        assert all(p["online"] for p in b_dev.events("presence")), "no offline before the death"
        seen = (await bob.call("GET", "/api/presence")).json()["presence"]
        assert [p["online"] for p in seen if p["userId"] == ann.id] == [False]
        call = await bob.call("POST", "/api/calls", json={"calleeId": ann.id, "media": "audio"})
        assert call.status_code == 409
        assert call.json()["error"]["code"] == "callee_offline"
        a2.abort()
    finally:
        await b_dev.close()
