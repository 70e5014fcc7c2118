"""Many gateway nodes as one: presence, cross-node delivery, resume and failure handling
over Redis.

Registry (prefix ``connect:``)::

    conn:<client>      hash  node, subject, kind, ip_hash, attached, state (live|suspended)
    subj:<subject>     set   client ids of a subject (all of a user's devices)
    nodeconns:<node>   set   client ids a node holds
    resume:<token>     str   client id (rotated on every welcome)
    orphans            zset  client id -> deadline, for places whose node is gone
    gap:<client>       list  frames for an orphaned client, replayed on resume
    nodes              zset  node -> last heartbeat (wall clock)

Delivery: a frame for a client this node does not hold goes to the holder's
channel ``connect:node:<node>`` (pub/sub). One outbox task per node sends in
FIFO order, so frames to a client keep their order. Frames for an orphan go
to its ``gap`` list.

Resume elsewhere: a node that receives a resume token it does not know
claims the place atomically (Lua) and tells the old holder to *release* it;
the old holder forwards the client's buffered frames and forgets it without
ending anything.

Failure: every node refreshes its heartbeat each second. When one has not
been heard of for ``dead_after_s`` (SIGKILL, crash, partition), a survivor
(one, by lock) turns its places into orphans with a deadline of now plus
the grace period and tells their partners ``peer-reconnecting``; orphans not
claimed by their deadline are ended by a survivor, whose features tell the
partners ``peer-ended "disconnected"``. A node that shuts down gracefully
orphans its own places on the way out, so its clients resume elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
import redis.asyncio as redis
import structlog

from connect.gateway.connection import Client
from connect.identity.service import Principal
from connect.storage.redis import PREFIX

if TYPE_CHECKING:
    from connect.gateway.hub import Hub

log = structlog.get_logger(__name__)
GAP_FRAMES = 256
REGISTRY_TTL_S = 86_400

CLAIM = """
local id = redis.call("GET", KEYS[1])
if not id then return false end
local ck = ARGV[1] .. "conn:" .. id
if redis.call("HGET", ck, "subject") ~= ARGV[2] then return false end
local old = redis.call("HGET", ck, "node") or ""
redis.call("DEL", KEYS[1])
redis.call("ZREM", ARGV[1] .. "orphans", id)
if old ~= "" then redis.call("SREM", ARGV[1] .. "nodeconns:" .. old, id) end
redis.call("HSET", ck, "node", ARGV[3], "state", "live")
redis.call("SADD", ARGV[1] .. "nodeconns:" .. ARGV[3], id)
return {id, old}
"""

FINISH = """
local ck = ARGV[1] .. "conn:" .. ARGV[2]
local node = redis.call("HGET", ck, "node")
if node ~= ARGV[3] then return 0 end
local subject = redis.call("HGET", ck, "subject")
local resume = redis.call("HGET", ck, "resume")
if subject then redis.call("SREM", ARGV[1] .. "subj:" .. subject, ARGV[2]) end
if resume then redis.call("DEL", ARGV[1] .. "resume:" .. resume) end
if node ~= "" then redis.call("SREM", ARGV[1] .. "nodeconns:" .. node, ARGV[2]) end
redis.call("DEL", ck, ARGV[1] .. "gap:" .. ARGV[2])
redis.call("ZREM", ARGV[1] .. "orphans", ARGV[2])
return 1
"""

ORPHAN_NODE = """
local ids = redis.call("SMEMBERS", KEYS[1])
for _, id in ipairs(ids) do
  local ck = ARGV[1] .. "conn:" .. id
  if redis.call("HGET", ck, "node") == ARGV[2] then
    redis.call("HSET", ck, "node", "", "state", "suspended")
    redis.call("ZADD", ARGV[1] .. "orphans", ARGV[3], id)
  end
end
redis.call("DEL", KEYS[1])
return ids
"""

TAKE_DUE = """
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, 100)
for _, id in ipairs(ids) do redis.call("ZREM", KEYS[1], id) end
return ids
"""


class Cluster:
    def __init__(
        self,
        client: redis.Redis,
        node_id: str,
        *,
        grace_s: float,
        dead_after_s: float = 3.0,
        beat_s: float = 1.0,
    ) -> None:
        self._r = client
        self.node = node_id
        self._grace_s = grace_s
        self._dead_after_s = dead_after_s
        self._beat_s = beat_s
        self._claim = client.register_script(CLAIM)
        self._finish = client.register_script(FINISH)
        self._orphan_node = client.register_script(ORPHAN_NODE)
        self._take_due = client.register_script(TAKE_DUE)
        self._outbox: asyncio.Queue[tuple[str, str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._pubsub: Any = None
        self._hub: Hub | None = None
        self._broadcast_handlers: list[Callable[[dict[str, Any]], Awaitable[None]]] = []

    @property
    def channel(self) -> str:
        return f"{PREFIX}node:{self.node}"

    def attach(self, hub: Hub) -> None:
        self._hub = hub
        hub.cluster = self

    def on_broadcast(self, handler: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self._broadcast_handlers.append(handler)

    async def broadcast(self, message: dict[str, Any]) -> None:
        await self._r.publish(f"{PREFIX}broadcast", orjson.dumps(message))

    # -- lifecycle of the node -------------------------------------------------------

    async def start(self) -> None:
        self._pubsub = self._r.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.channel, f"{PREFIX}broadcast")
        await self._beat()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen()),
            loop.create_task(self._send_outbox()),
            loop.create_task(self._janitor()),
        ]

    async def stop(self) -> None:
        """Flush what is still queued for other nodes (briefly), then leave the cluster."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.join(), 2.0)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self._r.zrem(f"{PREFIX}nodes", self.node)
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()

    # -- registry ----------------------------------------------------------------------

    async def register(self, client: Client) -> None:
        key = f"{PREFIX}conn:{client.id}"
        old_resume = await self._r.hget(key, "resume")
        async with self._r.pipeline(transaction=True) as pipe:
            if old_resume:
                pipe.delete(f"{PREFIX}resume:{_s(old_resume)}")
            pipe.hset(
                key,
                mapping={
                    "node": self.node,
                    "subject": client.subject,
                    "kind": client.principal.kind,
                    "ip_hash": client.ip_hash,
                    "attached": repr(client.attached or time.time()),
                    "state": "live",
                    "resume": client.resume_token,
                },
            )
            pipe.expire(key, REGISTRY_TTL_S)
            pipe.sadd(f"{PREFIX}subj:{client.subject}", client.id)
            pipe.sadd(f"{PREFIX}nodeconns:{self.node}", client.id)
            pipe.set(f"{PREFIX}resume:{client.resume_token}", client.id, ex=REGISTRY_TTL_S)
            await pipe.execute()

    async def suspend(self, client: Client) -> None:
        await self._r.hset(f"{PREFIX}conn:{client.id}", "state", "suspended")

    async def finish(self, client_id: str) -> bool:
        """Remove a place this node holds; False when another node has claimed it."""
        return bool(await self._finish(keys=[], args=[PREFIX, client_id, self.node]))

    async def claim(self, resume_token: str, subject: str) -> str | None:
        """Take over the place behind ``resume_token`` for this node; tell its old holder."""
        found = await self._claim(
            keys=[f"{PREFIX}resume:{resume_token}"], args=[PREFIX, subject, self.node]
        )
        if not found:
            return None
        client_id, old = _s(found[0]), _s(found[1])
        if old and old != self.node:
            await self._r.publish(
                f"{PREFIX}node:{old}", orjson.dumps({"t": "release", "c": client_id})
            )
        return client_id

    async def take_gap(self, client_id: str) -> list[str]:
        key = f"{PREFIX}gap:{client_id}"
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.lrange(key, 0, -1)
            pipe.delete(key)
            frames, _ = await pipe.execute()
        return [_s(f) for f in frames]

    async def orphan(self, clients: list[Client]) -> None:
        """Hand this node's places to the cluster (graceful shutdown)."""
        if not clients:
            return
        deadline = time.time() + self._grace_s
        await self._orphan_node(
            keys=[f"{PREFIX}nodeconns:{self.node}"], args=[PREFIX, self.node, repr(deadline)]
        )
        for client in clients:
            if client.gap:
                await self._r.rpush(f"{PREFIX}gap:{client.id}", *client.gap)

    async def live(self, subject: str) -> list[Client]:
        ids = [_s(i) for i in await self._r.smembers(f"{PREFIX}subj:{subject}")]
        out: list[Client] = []
        for cid in ids:
            info = await self._r.hgetall(f"{PREFIX}conn:{cid}")
            if not info:
                continue
            d = {_s(k): _s(v) for k, v in info.items()}
            if d.get("state") != "live":
                continue
            client = _detached(cid, d)
            out.append(client)
        return sorted(out, key=lambda c: c.attached, reverse=True)

    # -- delivery ------------------------------------------------------------------------

    def forward(self, client_id: str, frame: str) -> None:
        self._outbox.put_nowait(("c", client_id, frame))

    def forward_subject(self, subject: str, frame: str, skip: set[str]) -> None:
        self._outbox.put_nowait(("s", subject, (frame, skip)))

    async def _send_outbox(self) -> None:
        while True:
            kind, target, payload = await self._outbox.get()
            try:
                if kind == "c":
                    await self._route(target, payload)
                else:
                    frame, skip = payload
                    for cid in await self._r.smembers(f"{PREFIX}subj:{target}"):
                        if _s(cid) not in skip:
                            await self._route(_s(cid), frame)
            except Exception:
                log.exception("cluster_forward_failed")
            finally:
                self._outbox.task_done()

    async def _route(self, client_id: str, frame: str) -> None:
        node = await self._r.hget(f"{PREFIX}conn:{client_id}", "node")
        if node is None:
            return
        node_s = _s(node)
        if node_s == "":
            key = f"{PREFIX}gap:{client_id}"
            async with self._r.pipeline(transaction=False) as pipe:
                pipe.rpush(key, frame)
                pipe.ltrim(key, -GAP_FRAMES, -1)
                pipe.expire(key, int(self._grace_s) + 60)
                await pipe.execute()
        elif node_s == self.node:
            assert self._hub is not None
            local = self._hub.get(client_id)
            if local is not None:
                local.push(frame)
        else:
            await self._r.publish(
                f"{PREFIX}node:{node_s}", orjson.dumps({"t": "f", "c": client_id, "x": frame})
            )

    async def _listen(self) -> None:
        assert self._pubsub is not None
        hub = self._hub
        assert hub is not None
        async for message in self._pubsub.listen():
            try:
                data = orjson.loads(message["data"])
                kind = data.get("t")
                if kind == "f":
                    client = hub.get(data["c"])
                    if client is not None:
                        client.push(data["x"])
                    else:
                        self.forward(data["c"], data["x"])
                elif kind == "release":
                    for frame in hub.release(data["c"]):
                        self.forward(data["c"], frame)
                else:
                    for handler in self._broadcast_handlers:
                        await handler(data)
            except Exception:
                log.exception("cluster_message_failed")

    # -- failure detection -----------------------------------------------------------------

    async def _beat(self) -> None:
        await self._r.zadd(f"{PREFIX}nodes", {self.node: time.time()})

    async def _janitor(self) -> None:
        while True:
            await asyncio.sleep(min(self._beat_s, 0.5))
            try:
                await self._beat()
                await self._adopt_dead_nodes()
                await self._end_due_orphans()
            except Exception:
                log.exception("cluster_janitor_failed")

    async def _adopt_dead_nodes(self) -> None:
        hub = self._hub
        assert hub is not None
        horizon = time.time() - self._dead_after_s
        for raw in await self._r.zrangebyscore(f"{PREFIX}nodes", "-inf", horizon):
            dead = _s(raw)
            if dead == self.node:
                continue
            if not await self._r.set(f"{PREFIX}lock:dead:{dead}", self.node, nx=True, ex=30):
                continue
            deadline = time.time() + self._grace_s
            ids = await self._orphan_node(
                keys=[f"{PREFIX}nodeconns:{dead}"], args=[PREFIX, dead, repr(deadline)]
            )
            await self._r.zrem(f"{PREFIX}nodes", dead)
            log.warning("cluster_node_dead", node=dead, clients=len(ids))
            for cid in ids:
                info = await self._r.hgetall(f"{PREFIX}conn:{_s(cid)}")
                if info:
                    await hub.notify_suspended(
                        _detached(_s(cid), {_s(k): _s(v) for k, v in info.items()})
                    )

    async def _end_due_orphans(self) -> None:
        hub = self._hub
        assert hub is not None
        for raw in await self._take_due(keys=[f"{PREFIX}orphans"], args=[repr(time.time())]):
            cid = _s(raw)
            info = await self._r.hgetall(f"{PREFIX}conn:{cid}")
            if not info:
                continue
            d = {_s(k): _s(v) for k, v in info.items()}
            if d.get("node") != "":
                continue
            if await self._finish(keys=[], args=[PREFIX, cid, ""]):
                await hub.notify_gone(_detached(cid, d))


def _s(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _detached(client_id: str, info: dict[str, str]) -> Client:
    """A client known only from the registry (held elsewhere, or by nobody)."""
    kind = info.get("kind", "guest")
    principal = Principal(
        subject=info.get("subject", ""),
        kind="access" if kind == "access" else "guest",
        ip_hash=info.get("ip_hash", ""),
        expires_at=0.0,
    )
    client = Client(client_id, principal, info.get("ip_hash", ""), info.get("resume", ""))
    client.attached = float(info.get("attached", "0") or 0)
    return client
