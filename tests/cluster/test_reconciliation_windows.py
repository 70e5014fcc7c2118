"""A node's reconciliation after a Redis fault has two windows in which a chat line that
was acknowledged to its sender used to be dropped; each is driven here, not waited for
under load.

- After Redis comes back empty, a place is unknown to the registry until its holder
  re-registers it: the test deletes one client's registry entry (what an empty Redis is
  for that client before its node reconciles), its partner on the other node sends lines
  (acknowledged: the session is still there), and only once the sending node's outbox
  has routed them (its source sequence in Redis moved) does the test change Redis' data
  epoch, the sign of an emptied Redis, so both nodes rebuild the registry.
- The reconciliation closes every live socket with 1012 so its client resumes; until the
  close handshake ends the socket is still the client's: the test's client stops reading
  (so the handshake waits), one node is made to reconcile (its heartbeat entry removed),
  and the partner's lines arrive at that node while the socket is closing.

In both, the lines must arrive after the resume, in order and once.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as redis

from connect.gateway.cluster.registry import _s
from connect.storage.redis import PREFIX
from connect.storage.redis import connect as connect_redis
from tests.support.client import CONTRACT_VIOLATIONS, guest_token
from tests.support.cluster import Cluster
from tests.support.faults import ResilientPeer, redis_process, tracebacks, until
from tests.support.services import create_database, postgres_server

pytestmark = pytest.mark.cluster


@dataclass
class Rig:
    cluster: Cluster
    redis_url: str


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    work = Path(tmp_path_factory.mktemp("reconciliation"))
    with ExitStack() as stack:
        server = stack.enter_context(redis_process(work / "redis", persist=False))
        pg = stack.enter_context(postgres_server(work / "pg"))
        cluster = Cluster(
            work,
            server.url,
            create_database(pg, "connect_reconcile"),
            {"CONNECT_RESUME_GRACE_S": "10"},
        )
        stack.callback(cluster.stop)
        for i in range(2):
            cluster.start_node(i)
        yield Rig(cluster, server.url)


@pytest.fixture(autouse=True)
def contract() -> Iterator[None]:
    CONTRACT_VIOLATIONS.clear()
    yield
    assert CONTRACT_VIOLATIONS == []


@dataclass
class Pair:
    """A stranger pair: ``a`` on node 0, ``b`` on node 1, and what the registry says."""

    a: ResilientPeer
    b: ResilientPeer
    r: redis.Redis
    a_id: str
    node0: str
    node1: str

    def said_to_a(self) -> list[str]:
        return [m["text"] for m in self.a.events("message")]

    async def routed_by_node1(self) -> int:
        """Frames node 1's outbox has run ROUTE for (its source sequence numbers)."""
        keys = [k async for k in self.r.scan_iter(f"{PREFIX}seq:{self.node1}:*")]
        values = await self.r.mget(keys) if keys else []
        return sum(int(_s(v)) for v in values if v is not None)

    async def b_says(self, *lines: str) -> None:
        """``b`` sends each line, each acknowledged; returns once node 1 has routed them."""
        before = await self.routed_by_node1()
        for text in lines:
            ack = await self.b.request("send-message", {"text": text})
            assert ack is not None
            assert ack["ok"], ack

        async def routed() -> bool:
            return await self.routed_by_node1() >= before + len(lines)

        await until(routed, 10.0, "node 1 routed the lines")


@asynccontextmanager
async def stranger_pair(rig: Rig) -> AsyncIterator[Pair]:
    n0, n1 = rig.cluster.nodes
    a = await ResilientPeer.connect(n0.ws, await guest_token(n0.http))
    b = await ResilientPeer.connect(n1.ws, await guest_token(n1.http))
    r = connect_redis(rig.redis_url)
    try:
        tag = [secrets.token_hex(6)]
        for p in (a, b):
            assert (await p.request("join-queue", {"mode": "text", "interests": tag}))["ok"]
        await a.peer.event("matched")
        await b.peer.event("matched")
        a_id = _s(await r.get(f"{PREFIX}resume:{a.welcome['resumeToken']}"))
        b_id = _s(await r.get(f"{PREFIX}resume:{b.welcome['resumeToken']}"))
        node0 = _s(await r.hget(f"{PREFIX}conn:{a_id}", "node"))
        node1 = _s(await r.hget(f"{PREFIX}conn:{b_id}", "node"))
        assert node0 != node1
        yield Pair(a, b, r, a_id, node0, node1)
    finally:
        await r.aclose()
        await a.close()
        await b.close()
    for node in rig.cluster.nodes:
        assert tracebacks(node) == [], node.log()[-4000:]


async def after_the_resume(pair: Pair, expected: list[str], *, both: bool) -> None:
    """``a`` resumed (and ``b`` too when ``both`` nodes reconciled), a line sent now
    arrives, and ``a`` has seen exactly ``expected`` and that line, in that order."""
    peers = (pair.a, pair.b) if both else (pair.a,)

    async def resumed() -> bool:
        return all(p.resumes >= 1 and p.peer.welcome != {} for p in peers)

    await until(resumed, 15.0, "the closed sockets resumed")
    ack = await pair.b.request("send-message", {"text": "after"})
    assert ack is not None
    assert ack["ok"], ack

    async def arrived() -> bool:
        return "after" in pair.said_to_a()

    await until(arrived, 10.0, "a line sent after the resume")
    assert pair.said_to_a() == [*expected, "after"], "in order, once each"
    assert (pair.a.fresh, pair.b.fresh) == (0, 0), "every client kept its place"


async def test_a_line_for_a_place_not_yet_re_registered_arrives_after_the_rebuild(
    rig: Rig,
) -> None:
    async with stranger_pair(rig) as pair:
        # Redis lost a's entry, and node 0 has not re-registered it yet.
        assert await pair.r.delete(f"{PREFIX}conn:{pair.a_id}") == 1
        await pair.b_says("unknown-1", "unknown-2")
        assert pair.said_to_a() == [], "nobody knew where a was: nothing arrived yet"
        # Now the reconciliation: Redis' data epoch changes as after an empty restart.
        await pair.r.set(f"{PREFIX}epoch", f"emptied-{secrets.token_hex(4)}")
        await after_the_resume(pair, ["unknown-1", "unknown-2"], both=True)


async def test_a_line_reaching_a_socket_closed_for_its_resume_arrives_after_it(
    rig: Rig,
) -> None:
    n0 = rig.cluster.nodes[0]
    async with stranger_pair(rig) as pair:
        start = len(n0.log())
        # a reads nothing more: node 0's close frame waits, so its socket stays closing
        # (up to the server's close timeout) while the lines below reach node 0.
        transport = pair.a.peer.ws.transport
        transport.pause_reading()
        # Node 0 finds Redis does not know it (as after a death sentence): it reconciles,
        # re-registering its places and closing their sockets with 1012.
        assert await pair.r.zrem(f"{PREFIX}nodes", pair.node0) == 1

        async def reconciled() -> bool:
            return "cluster_recovered" in n0.log()[start:]

        await until(reconciled, 10.0, "node 0 reconciled", every=0.02)
        await pair.b_says("closing-1", "closing-2")
        transport.resume_reading()
        await after_the_resume(pair, ["closing-1", "closing-2"], both=False)
