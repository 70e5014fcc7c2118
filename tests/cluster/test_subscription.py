"""The node's subscription (``gateway/cluster/subscription.py``): its own connection,
read by a protocol that parses every message of a read at once.

In process against a real Redis: one node (``b``) with a hub whose clients record what
is pushed to them; the test publishes on node ``b``'s channel as other nodes' ``ROUTE``
calls do, and stops and starts the Redis process itself.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as redis

from connect.gateway.cluster import Cluster
from connect.storage.redis import PREFIX
from connect.storage.redis import connect as connect_redis
from tests.support.faults import RedisProcess, redis_process, until

pytestmark = pytest.mark.cluster


@dataclass
class Sink:
    """A client of node b: what was pushed to it, in order."""

    frames: list[str] = field(default_factory=list)

    def push(self, text: str) -> bool:
        self.frames.append(text)
        return True


class FakeHub:
    """What the cluster layer asks of a hub."""

    def __init__(self, clients: dict[str, Sink]) -> None:
        self._clients = clients
        self.cluster: Any = None

    def get(self, client_id: str) -> Sink | None:
        return self._clients.get(client_id)

    def clients(self) -> list[Any]:
        return []

    def release(self, client_id: str) -> list[str]:
        return []


@dataclass
class Rig:
    server: RedisProcess
    r: redis.Redis
    node: Cluster
    sinks: dict[str, Sink]

    async def publish(self, *frames: tuple[str, str]) -> None:
        """Each ``(client, frame)`` as one message on node b's channel, all in one
        pipeline (so Redis writes them to the subscriber together)."""
        async with self.r.pipeline(transaction=False) as pipe:
            for client, frame in frames:
                pipe.publish(f"{PREFIX}node:b", orjson.dumps({"t": "f", "c": client, "x": frame}))
            await pipe.execute()


@asynccontextmanager
async def rig(tmp: Path) -> AsyncIterator[Rig]:
    with redis_process(tmp / "redis") as server:
        client = connect_redis(server.url)
        sinks = {"c1": Sink(), "c2": Sink()}
        node = Cluster(client, "b", grace_s=10, beat_s=0.2)
        node.attach(FakeHub(sinks))  # type: ignore[arg-type]
        await node.start()
        try:
            yield Rig(server, client, node, sinks)
        finally:
            await node.stop()
            await client.aclose()


async def test_frames_of_one_read_reach_their_clients_in_order(tmp_path: Path) -> None:
    """500 frames published in one pipeline (many per read of the subscription) arrive
    each at its client, in the order published."""
    async with rig(tmp_path) as r:
        frames = [(f"c{1 + n % 2}", f"frame-{n}") for n in range(500)]
        await r.publish(*frames)

        async def all_in() -> bool:
            return sum(len(s.frames) for s in r.sinks.values()) == len(frames)

        await until(all_in, 10.0, "every frame pushed", every=0.01)
        for cid, sink in r.sinks.items():
            assert sink.frames == [f for c, f in frames if c == cid]


async def test_the_subscription_outlives_a_garbage_collection(tmp_path: Path) -> None:
    """The connection redis-py opened is no longer referenced once taken over; collecting
    it (or its stream writer) must not close the socket. (The first version lost its
    subscription at the first collection and resubscribed in a loop.)"""
    async with rig(tmp_path) as r:
        losses = r.node._losses
        gc.collect()
        await asyncio.sleep(0)
        await r.publish(("c1", "after gc"))
        await until(
            lambda: _true(r.sinks["c1"].frames == ["after gc"]), 5.0, "delivered", every=0.01
        )
        assert r.node._losses == losses  # never lost, never subscribed again
        assert r.node._listening


async def test_after_redis_restarts_the_node_subscribes_again_and_reconciles(
    tmp_path: Path,
) -> None:
    """Redis stopped: the node reports its listener down. Started again on the same port:
    the node subscribes again (a loss, reconciled), is ready, and a frame published after
    the return reaches its client."""
    async with rig(tmp_path) as r:
        await r.publish(("c1", "before"))
        await until(lambda: _true(r.sinks["c1"].frames == ["before"]), 5.0, "before", every=0.01)
        losses = r.node._losses
        r.server.stop()
        await until(
            lambda: _true(r.node.health() == "error: pub/sub listener down"),
            10.0,
            "the node saw its subscription go",
            every=0.02,
        )
        r.server.start()
        await until(lambda: _true(r.node.health() == "ok"), 15.0, "ready again", every=0.05)
        assert r.node._losses == losses + 1
        assert r.node.recoveries >= 1
        await r.publish(("c1", "after"))
        await until(
            lambda: _true(r.sinks["c1"].frames == ["before", "after"]), 5.0, "after", every=0.01
        )


async def test_broadcasts_reach_their_handlers_in_order(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        seen: list[int] = []
        gate = asyncio.Event()

        async def handler(message: dict[str, Any]) -> None:
            if message["n"] == 0:
                await gate.wait()  # a slow handler: the next waits for it, frames do not
            seen.append(message["n"])

        r.node.on_broadcast(handler)
        for n in range(3):
            await r.node.broadcast({"t": "test", "n": n})
        await r.publish(("c2", "while a handler waits"))
        await until(lambda: _true(r.sinks["c2"].frames != []), 5.0, "frame", every=0.01)
        assert seen == []
        gate.set()
        await until(lambda: _true(seen == [0, 1, 2]), 5.0, "broadcasts handled", every=0.01)


async def _true(value: bool) -> bool:
    return value
