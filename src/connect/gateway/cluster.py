"""Many gateway nodes as one: presence, cross-node delivery, resume and failure handling
over Redis.

Why one ~750-line module: the registry, frame routing, heartbeats, following a
Sentinel-promoted primary and the reconciliation after Redis faults share one
subscription state and one data epoch; reconciliation must re-register places,
replay gaps and judge peers as one step, so the parts it coordinates stay in the
class that owns that state.

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
import functools
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
import redis.asyncio as redis
import structlog

from connect.gateway import close_codes
from connect.gateway.connection import Client
from connect.identity.service import Principal, split_subject
from connect.storage.redis import PREFIX, UNREACHABLE, current_primary

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


BEAT = """
local t = redis.call("TIME")
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local known = redis.call("ZSCORE", KEYS[1], ARGV[1])
redis.call("ZADD", KEYS[1], now, ARGV[1])
local last = tonumber(redis.call("GET", KEYS[2]) or "0")
if now - last > tonumber(ARGV[2]) then redis.call("SET", KEYS[3], tostring(now)) end
redis.call("SET", KEYS[2], tostring(now))
redis.call("SET", KEYS[4], ARGV[3], "NX")
if not known then redis.call("DEL", KEYS[5]) end
return {known and 1 or 0, redis.call("GET", KEYS[4])}
"""

SILENT = """
local t = redis.call("TIME")
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local after = tonumber(ARGV[1])
local since = tonumber(redis.call("GET", KEYS[2]) or tostring(now))
if now - since < after then return {} end
return redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now - after)
"""

ROUTE = """
local seq = tonumber(ARGV[5])
if seq <= tonumber(redis.call("GET", KEYS[1]) or "-1") then return 3 end
redis.call("SET", KEYS[1], ARGV[5], "EX", 3600)
local ck = ARGV[1] .. "conn:" .. ARGV[2]
local node = redis.call("HGET", ck, "node")
if not node then return -1 end
if node == ARGV[3] then return 0 end
if node ~= "" then
  if redis.call("PUBLISH", ARGV[1] .. "node:" .. node, ARGV[6]) > 0 then return 1 end
end
local gk = ARGV[1] .. "gap:" .. ARGV[2]
redis.call("RPUSH", gk, ARGV[4])
redis.call("LTRIM", gk, -tonumber(ARGV[8]), -1)
redis.call("EXPIRE", gk, ARGV[7])
return 2
"""

REREGISTER = """
local ck = ARGV[1] .. "conn:" .. ARGV[2]
local node = redis.call("HGET", ck, "node")
if node and node ~= "" and node ~= ARGV[3] then return node end
if not node and ARGV[11] ~= "1" then return "-" end
redis.call("HSET", ck, "node", ARGV[3], "subject", ARGV[4], "kind", ARGV[5],
  "ip_hash", ARGV[6], "attached", ARGV[7], "state", ARGV[8], "resume", ARGV[9])
redis.call("EXPIRE", ck, ARGV[10])
redis.call("ZREM", ARGV[1] .. "orphans", ARGV[2])
redis.call("SADD", ARGV[1] .. "subj:" .. ARGV[4], ARGV[2])
redis.call("SADD", ARGV[1] .. "nodeconns:" .. ARGV[3], ARGV[2])
redis.call("SET", ARGV[1] .. "resume:" .. ARGV[9], ARGV[2], "EX", ARGV[10])
return ""
"""

REDIS_DOWN = UNREACHABLE  # retried or waited out, logged once per outage
# How long a relayed frame is retried while Redis is unreachable before it is dropped
# (its target's place outlives an outage only by the grace period anyway).
FORWARD_RETRY_S = 60.0


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
        self._beat_script = client.register_script(BEAT)
        self._silent = client.register_script(SILENT)
        self._route_script = client.register_script(ROUTE)
        self._reregister = client.register_script(REREGISTER)
        self._outbox: asyncio.Queue[tuple[str, str, Any, float]] = asyncio.Queue()
        self._dropped = 0  # frames given up on during the current outage
        self._tasks: list[asyncio.Task[None]] = []
        self._pubsub: Any = None
        self._hub: Hub | None = None
        self._broadcast_handlers: list[Callable[[dict[str, Any]], Awaitable[None]]] = []
        # Source sequence of routed frames: a retry after an ambiguous failure (a timeout
        # while Redis was stalled) is recognised by Redis and not delivered twice.
        self._incarnation = secrets.token_hex(6)
        self._seq = 0
        self._listening = False
        self._losses = 0  # subscriptions lost (or registry found lost) so far
        self._recovered = 0  # losses reconciled by :meth:`_recover`
        self._beat_ok_at = float("-inf")
        self._outage_since: float | None = None
        self.recoveries = 0
        # Redis' data generation (a random value the first beat on an empty Redis sets):
        # a change means Redis lost everything and the registry must be rebuilt.
        self._epoch = ""
        self._rebuild = False
        # Sentinel: the primary last named, and a subscription found on another server.
        self._primary: tuple[str, int] | None = None
        self._resubscribe = False
        self._primary_unknown = False

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

    def health(self) -> str:
        """``ok`` when this node can deliver across nodes now (for ``/health/ready``).

        Not ok while the subscription is down, while the last heartbeat that
        reached Redis is older than two beats plus a margin (Redis stalled or
        unreachable), and until the places and gaps of this node are
        reconciled after a loss.
        """
        if not self._listening:
            return "error: pub/sub listener down"
        if time.monotonic() - self._beat_ok_at > self._stale_after_s:
            return "error: redis unreachable"
        if self._recovered < self._losses:
            return "error: recovering"
        return "ok"

    @property
    def _stale_after_s(self) -> float:
        return 2 * min(self._beat_s, 0.5) + 1.5

    # -- lifecycle of the node -------------------------------------------------------

    async def start(self) -> None:
        await self._subscribe()
        await self._beat()
        self._beat_ok_at = time.monotonic()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen()),
            loop.create_task(self._send_outbox()),
            loop.create_task(self._janitor()),
            loop.create_task(self._watch_primary()),
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
        with contextlib.suppress(*REDIS_DOWN):
            await self._r.zrem(f"{PREFIX}nodes", self.node)
        await self._close_pubsub()

    async def _subscribe(self) -> None:
        pubsub: Any = self._r.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel, f"{PREFIX}broadcast")
        except BaseException:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            raise
        self._pubsub = pubsub
        self._listening = True
        # The client may reconnect and resubscribe by itself (a retried read): frames
        # published meanwhile were lost just the same, so that too is a loss to reconcile.
        pubsub.connection.register_connect_callback(self._resubscribed)

    async def _resubscribed(self, _: object) -> None:
        self._losses += 1
        log.warning("cluster_listener_reconnected")

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            if pubsub.connection is not None:
                pubsub.connection.deregister_connect_callback(self._resubscribed)
            with contextlib.suppress(Exception):
                await pubsub.aclose()

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
        try:
            await self._orphan_node(
                keys=[f"{PREFIX}nodeconns:{self.node}"], args=[PREFIX, self.node, repr(deadline)]
            )
            for client in clients:
                if client.gap:
                    await self._r.rpush(f"{PREFIX}gap:{client.id}", *client.gap)
        except REDIS_DOWN as exc:
            # Redis is away as this node stops: its heartbeat lapses and a survivor
            # orphans its places once Redis is back.
            log.warning("cluster_orphan_failed", error=type(exc).__name__)

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
        self._outbox.put_nowait(("c", client_id, frame, time.monotonic()))

    def forward_subject(self, subject: str, frame: str, skip: set[str]) -> None:
        self._outbox.put_nowait(("s", subject, (frame, skip), time.monotonic()))

    async def _send_outbox(self) -> None:
        """Send queued frames in order; while Redis is unreachable, wait for it: a frame
        queued more than ``FORWARD_RETRY_S`` ago is given up (the outbox stays bounded in
        time, however long the outage)."""
        while True:
            kind, target, payload, queued = await self._outbox.get()
            give_up = queued + FORWARD_RETRY_S
            try:
                if kind == "c":
                    await self._route(target, payload, give_up)
                else:
                    frame, skip = payload
                    members = await self._retrying(
                        functools.partial(self._r.smembers, f"{PREFIX}subj:{target}"), give_up
                    )
                    for cid in members or ():
                        if _s(cid) not in skip:
                            await self._route(_s(cid), frame, give_up)
            except Exception:
                log.exception("cluster_forward_failed")
            finally:
                self._outbox.task_done()

    async def _retrying(self, call: Callable[[], Awaitable[Any]], give_up: float) -> Any:
        """``call()`` until it succeeds, with backoff while Redis is unreachable; None once
        the monotonic time ``give_up`` has passed (counted, logged once per outage)."""
        delay = 0.05
        while True:
            try:
                result = await call()
            except REDIS_DOWN as exc:
                if time.monotonic() > give_up:
                    if not self._dropped:
                        log.warning("cluster_forward_dropping", error=type(exc).__name__)
                    self._dropped += 1
                    return None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            if self._dropped:
                log.warning("cluster_forward_dropped", frames=self._dropped)
                self._dropped = 0
            return result

    async def _route(self, client_id: str, frame: str, give_up: float) -> None:
        """Publish ``frame`` to the holder of ``client_id``; if nobody listens there (its
        node died or lost its subscription), keep it in the place's gap list instead,
        atomically, for the resume or the holder's recovery to replay."""
        self._seq += 1
        seq = self._seq
        message = orjson.dumps({"t": "f", "c": client_id, "x": frame})
        outcome = await self._retrying(
            lambda: self._route_script(
                keys=[f"{PREFIX}seq:{self.node}:{self._incarnation}"],
                args=[
                    PREFIX,
                    client_id,
                    self.node,
                    frame,
                    seq,
                    message,
                    int(self._grace_s) + 60,
                    GAP_FRAMES,
                ],
            ),
            give_up,
        )
        if outcome == 0:
            assert self._hub is not None
            local = self._hub.get(client_id)
            if local is not None:
                local.push(frame)

    async def _listen(self) -> None:
        """Receive frames for this node's clients; after a lost subscription, resubscribe
        with backoff and have the janitor reconcile (:meth:`_recover`)."""
        hub = self._hub
        assert hub is not None
        delay = 0.1
        while True:
            try:
                if self._pubsub is None:
                    await self._subscribe()
                    self._losses += 1
                    log.warning("cluster_listener_restored")
                delay = 0.1
                while not self._resubscribe:
                    message = await self._pubsub.get_message(timeout=1.0)
                    if message is not None:
                        await self._on_message(hub, message)
                # Subscribed to a former primary (see :meth:`_follow_primary`): move over
                # at once; resubscribing counts as a loss, so the node reconciles.
                self._resubscribe = False
                self._listening = False
                await self._close_pubsub()
                continue
            except asyncio.CancelledError:
                raise
            except REDIS_DOWN as exc:
                if self._listening:
                    log.warning("cluster_listener_lost", error=type(exc).__name__)
                self._listening = False
            except Exception:
                self._listening = False
                log.exception("cluster_listener_failed")
            await self._close_pubsub()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _on_message(self, hub: Hub, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
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
        except REDIS_DOWN as exc:
            # A handler that needed Redis (a broadcast's follow-up): the subscription's
            # own read notices a real loss; this message's effect is skipped.
            log.warning("cluster_message_skipped", error=type(exc).__name__)
        except Exception:
            log.exception("cluster_message_failed")

    async def _recover(self, *, rebuild: bool) -> None:
        """Make the registry agree with the clients this node holds, after a lost subscription
        or a lost registry (Redis restarted without its data, or survivors took our places).

        Each place is re-registered (an orphaned one taken back) unless another node
        claimed it meanwhile (then it is released here) or, Redis having kept its data,
        a survivor ended it while this node was cut off (then its socket is closed and
        the resume finds no place: the client starts over, as its partner was told).
        Frames kept in its gap list while nobody listened are replayed; every live socket
        is then closed with 1012: frames published while the subscription was breaking
        may be lost, and the client's resume brings back everything durable (its hello
        pushes the contacts backlog).
        """
        hub = self._hub
        assert hub is not None
        closed = 0
        for client in hub.clients():
            owner = _s(
                await self._reregister(
                    keys=[],
                    args=[
                        PREFIX,
                        client.id,
                        self.node,
                        client.subject,
                        client.principal.kind,
                        client.ip_hash,
                        repr(client.attached or time.time()),
                        "live" if client.conn is not None else "suspended",
                        client.resume_token,
                        REGISTRY_TTL_S,
                        "1" if rebuild else "0",
                    ],
                )
            )
            if owner == "-":
                conn, client.conn = client.conn, None
                if conn is not None:
                    conn.close(close_codes.SHUTTING_DOWN, "place ended elsewhere: start over")
                    closed += 1
                hub.release(client.id)
                continue
            if owner:
                for frame in hub.release(client.id):
                    self.forward(client.id, frame)
                continue
            for frame in await self.take_gap(client.id):
                client.push(frame)
            if client.conn is not None:
                client.conn.close(close_codes.SHUTTING_DOWN, "delivery path lost: resume")
                closed += 1
        self.recoveries += 1
        log.warning("cluster_recovered", clients=len(hub.clients()), closed=closed)

    # -- failure detection -----------------------------------------------------------------

    async def _beat(self) -> bool:
        """Write this node's heartbeat with Redis' clock; False when Redis did not know this
        node (it was judged dead, or Redis lost its data)."""
        known, epoch = await self._beat_script(
            keys=[
                f"{PREFIX}nodes",
                f"{PREFIX}beat:last",
                f"{PREFIX}beat:since",
                f"{PREFIX}epoch",
                f"{PREFIX}lock:dead:{self.node}",  # back from the dead: a next death is new
            ],
            args=[self.node, self._dead_after_s, secrets.token_hex(8)],
        )
        epoch = _s(epoch)
        if self._epoch and epoch != self._epoch:
            self._rebuild = True  # Redis lost its data since the last beat
        self._epoch = epoch
        return bool(known)

    async def _janitor(self) -> None:
        """Beat, reconcile after a loss, judge silent nodes, end due orphans; survives Redis
        being away (logged once per outage)."""
        while True:
            await asyncio.sleep(min(self._beat_s, 0.5))
            try:
                known = await self._beat()
                self._beat_ok_at = time.monotonic()
                if self._outage_since is not None:
                    log.warning(
                        "cluster_redis_back",
                        after_s=round(time.monotonic() - self._outage_since, 2),
                    )
                    self._outage_since = None
                if not known or self._rebuild:
                    self._losses += 1
                if self._recovered < self._losses and self._listening:
                    losses, rebuild = self._losses, self._rebuild
                    await self._recover(rebuild=rebuild)
                    self._recovered = losses
                    if rebuild:
                        self._rebuild = False
                await self._adopt_dead_nodes()
                await self._end_due_orphans()
            except asyncio.CancelledError:
                raise
            except REDIS_DOWN as exc:
                if self._outage_since is None:
                    self._outage_since = time.monotonic()
                    log.warning("cluster_redis_unreachable", error=type(exc).__name__)
            except Exception:
                log.exception("cluster_janitor_failed")

    async def _watch_primary(self) -> None:
        """With Sentinel, follow the primary once a second (a task of its own: a beat
        stuck on a frozen primary must not hold it up). Without Sentinel it ends at once."""
        while True:
            try:
                if not await self._follow_primary():
                    return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("cluster_primary_watch_failed")
            await asyncio.sleep(1.0)

    async def _follow_primary(self) -> bool:
        """Ask Sentinel where the primary is (which re-points the pool) and, when the
        subscription is on another server, have the listener move it. False without
        Sentinel.

        A failover after which the old primary comes back (a paused VM, a healed
        partition) leaves every connection opened before it talking to the old primary,
        which answers as primary until Sentinel demotes it (~10 s): this node would
        deliver through a server the others have left. Moving the subscription counts as
        a loss, so the node reconciles (:meth:`_recover`). No primary named (the Sentinels
        do not answer, or the primary is down and not yet replaced) is logged once per
        spell and changes nothing here: the beat and the listener judge Redis themselves.
        """
        try:
            primary = await current_primary(self._r)
        except REDIS_DOWN as exc:
            if not self._primary_unknown:
                log.warning("cluster_primary_unknown", error=type(exc).__name__)
            self._primary_unknown = True
            return True
        if self._primary_unknown:
            log.warning("cluster_primary_known")
            self._primary_unknown = False
        if primary is None:
            return False
        if self._primary is not None and primary != self._primary:
            log.warning("cluster_primary_moved", primary=f"{primary[0]}:{primary[1]}")
        self._primary = primary
        conn = self._pubsub.connection if self._pubsub is not None else None
        where = (str(conn.host), int(conn.port)) if conn is not None else None
        if where is not None and where != primary and not self._resubscribe:
            log.warning("cluster_subscription_moving", was=f"{where[0]}:{where[1]}")
            self._resubscribe = True
        return True

    async def _adopt_dead_nodes(self) -> None:
        """Orphan the places of nodes whose heartbeat lapsed.

        Judged inside Redis, on Redis' clock: only while Redis has been reachable
        to the cluster for ``dead_after_s`` (a beat gap longer than that, a stall or
        a restart, restarts the watch), so after Redis returns a node is judged
        only on heartbeats written after it returned; a node that cannot reach
        Redis judges nobody.
        """
        hub = self._hub
        assert hub is not None
        silent = await self._silent(
            keys=[f"{PREFIX}nodes", f"{PREFIX}beat:since"], args=[self._dead_after_s]
        )
        for raw in silent:
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
    typed = split_subject(info.get("subject", ""))
    kind, bare = typed if typed is not None else ("guest", "")
    principal = Principal(
        subject=bare,
        kind=kind,
        ip_hash=info.get("ip_hash", ""),
        expires_at=0.0,
    )
    client = Client(client_id, principal, info.get("ip_hash", ""), info.get("resume", ""))
    client.attached = float(info.get("attached", "0") or 0)
    return client
