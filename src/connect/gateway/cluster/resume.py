"""Resume: a place taken over by the node a client resumes on, and a node taking its
own places back after it lost touch with Redis.

Resume elsewhere: a node that receives a resume token it does not know
claims the place atomically (Lua) and tells the old holder to *release* it;
the old holder forwards the client's buffered frames and forgets it without
ending anything.

Owns the CLAIM and REREGISTER scripts, the gap lists' replay, and the reconciliation
(:meth:`Resume._recover`) that the heartbeat layer runs after a loss: it re-registers
places, replays gaps and releases what others claimed as one step, so it sits on the
routing layer it forwards through.
"""

from __future__ import annotations

import time

import orjson
import structlog
from redis.commands.core import AsyncScript

from connect.gateway import close_codes
from connect.gateway.cluster.registry import REGISTRY_TTL_S, _s
from connect.gateway.cluster.routing import Routing
from connect.storage.redis import PREFIX

log = structlog.get_logger(__name__)

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

REREGISTER = """
local ck = ARGV[1] .. "conn:" .. ARGV[2]
local node = redis.call("HGET", ck, "node")
if node and node ~= "" and node ~= ARGV[3] then return {node} end
if not node and ARGV[11] ~= "1" then return {"-"} end
redis.call("HSET", ck, "node", ARGV[3], "subject", ARGV[4], "kind", ARGV[5],
  "ip_hash", ARGV[6], "attached", ARGV[7], "state", ARGV[8], "resume", ARGV[9])
redis.call("EXPIRE", ck, ARGV[10])
redis.call("ZREM", ARGV[1] .. "orphans", ARGV[2])
redis.call("SADD", ARGV[1] .. "subj:" .. ARGV[4], ARGV[2])
redis.call("SADD", ARGV[1] .. "nodeconns:" .. ARGV[3], ARGV[2])
redis.call("SET", ARGV[1] .. "resume:" .. ARGV[9], ARGV[2], "EX", ARGV[10])
local gk = ARGV[1] .. "gap:" .. ARGV[2]
local out = redis.call("LRANGE", gk, 0, -1)
redis.call("DEL", gk)
table.insert(out, 1, "")
return out
"""


class Resume(Routing):
    """The resume layer of :class:`~connect.gateway.cluster.Cluster` (whose ``__init__``
    sets this state)."""

    _claim: AsyncScript
    _reregister: AsyncScript
    _recovered: int  # losses reconciled by :meth:`_recover`
    recoveries: int

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

    async def _recover(self, *, rebuild: bool) -> None:
        """Make the registry agree with the clients this node holds, after a lost subscription
        or a lost registry (Redis restarted without its data, or survivors took our places).

        Each place is re-registered (an orphaned one taken back) unless another node
        claimed it meanwhile (then it is released here) or, Redis having kept its data,
        a survivor ended it while this node was cut off (then its socket is closed and
        the resume finds no place: the client starts over, as its partner was told).
        Frames kept in its gap list while nobody listened, or while the registry did not
        know the place (Redis restarted empty: other nodes' frames for it wait there until
        this re-registration), are taken by the same script and replayed, then the frames
        this node received for the client meanwhile (held, so the order stays); every
        live socket is then closed with 1012: frames published while the subscription
        was breaking may be lost, and the client's resume brings back everything durable
        (its hello pushes the contacts backlog).
        """
        hub = self._hub
        assert hub is not None
        closed = 0
        for client in hub.clients():
            held: list[str] = []
            self._held[client.id] = held
            try:
                found = await self._reregister(
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
            except BaseException:
                self._release_held(client.id)
                raise
            del self._held[client.id]
            owner = _s(found[0])
            if owner == "-":
                conn, client.conn = client.conn, None
                if conn is not None:
                    conn.close(close_codes.SHUTTING_DOWN, "place ended elsewhere: start over")
                    closed += 1
                hub.release(client.id)
                continue
            if owner:
                for frame in [*hub.release(client.id), *held]:
                    self.forward(client.id, frame)
                continue
            for frame in [*(_s(f) for f in found[1:]), *held]:
                client.push(frame)
            if client.conn is not None:
                client.conn.close(close_codes.SHUTTING_DOWN, "delivery path lost: resume")
                closed += 1
        self.recoveries += 1
        log.warning("cluster_recovered", clients=len(hub.clients()), closed=closed)

    def _release_held(self, client_id: str) -> None:
        """The re-registration failed (Redis went away again): deliver what was held as
        it came; the gap stays in Redis for the next reconciliation."""
        assert self._hub is not None
        client = self._hub.get(client_id)
        for frame in self._held.pop(client_id, ()):
            if client is not None:
                client.push(frame)
            else:
                self.forward(client_id, frame)
