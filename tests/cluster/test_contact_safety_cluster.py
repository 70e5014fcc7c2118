"""A block holds across nodes: set on one node, enforced on the other (two real nodes, one
Redis, one PostgreSQL, all on loopback)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.client import CONTRACT_VIOLATIONS, Peer
from tests.support.cluster import Cluster, start_cluster
from tests.support.users import User, new_user

# Markers are expected to arrive: a generous bound costs nothing when all is well,
# and keeps a loaded machine (2 cores shared) from failing a correct run.
MARKER_S = 15.0

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with ExitStack() as stack:
        yield start_cluster(Path(tmp_path_factory.mktemp("safety-cluster")), stack, nodes=2)


@pytest.fixture(autouse=True)
def contract() -> Iterator[None]:
    CONTRACT_VIOLATIONS.clear()
    yield
    assert CONTRACT_VIOLATIONS == []


def on(user: User, cluster: Cluster, node: int) -> User:
    """The same account, talking REST to one particular node."""
    return dataclasses.replace(user, server=cluster.nodes[node])


async def test_a_block_set_on_one_node_silences_the_blocked_user_on_the_other(
    cluster: Cluster,
) -> None:
    ann = on(await new_user(cluster.nodes[0], "Ann"), cluster, 0)
    bob = on(await new_user(cluster.nodes[0], "Bob"), cluster, 1)
    r = await ann.call("POST", "/api/channels", json={"userId": bob.id})
    assert r.status_code == 200, r.text
    cid = r.json()["id"]
    a_dev = await Peer.connect(cluster.nodes[0].ws, ann.access)
    b_dev = await Peer.connect(cluster.nodes[1].ws, bob.access)
    try:
        # Positive control: typing crosses nodes while nobody is blocked.
        assert (await a_dev.request("channel-typing", {"channelId": cid, "active": True}))["ok"]
        assert (await b_dev.event("channel-typing", MARKER_S))["active"] is True

        assert (await bob.call("POST", f"/api/users/{ann.id}/block")).status_code == 204

        sent = await ann.call(
            "POST", f"/api/channels/{cid}/messages", json={"text": "hi", "clientId": "c1"}
        )
        assert sent.status_code == 403
        assert sent.json()["error"]["code"] == "blocked"
        ring = await ann.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "audio"})
        assert ring.status_code == 403
        assert (await a_dev.request("channel-typing", {"channelId": cid, "active": True}))["ok"]

        assert (await bob.call("DELETE", f"/api/users/{ann.id}/block")).status_code == 204
        assert (await a_dev.request("channel-typing", {"channelId": cid, "active": False}))["ok"]
        marker = await b_dev.event("channel-typing", MARKER_S)
        assert marker["active"] is False, "the typing sent across the block never arrived"
        after = await ann.call(
            "POST",
            f"/api/channels/{cid}/messages",
            json={"text": "after", "clientId": uuid.uuid4().hex},
        )
        assert after.status_code == 201
        assert (await b_dev.event("channel-message", MARKER_S))["text"] == "after"
        assert not [
            f for f in b_dev.inbox if f.get("event") in ("channel-message", "incoming-call")
        ]
    finally:
        await a_dev.close()
        await b_dev.close()
