"""The registry: where every client's place is, in Redis (the key layout is in the
package docstring), written and read by every node.

Owns registering, suspending, finishing and orphaning this node's places and finding a
subject's live places on any node; the bottom layer of :class:`~connect.gateway.cluster.Cluster`,
so it also holds what every other layer uses: the Redis client, this node's id, the
grace period, the hub, and the helpers that read registry entries back.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import redis.asyncio as redis
import structlog
from redis.commands.core import AsyncScript

from connect.gateway.connection import Client
from connect.identity.service import Principal, split_subject
from connect.storage.redis import PREFIX, UNREACHABLE

if TYPE_CHECKING:
    from connect.gateway.hub import Hub

log = structlog.get_logger(__name__)
REGISTRY_TTL_S = 86_400

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

REDIS_DOWN = UNREACHABLE  # retried or waited out, logged once per outage


class Registry:
    """The bottom layer of :class:`~connect.gateway.cluster.Cluster` (whose ``__init__``
    sets this state)."""

    _r: redis.Redis
    node: str
    _grace_s: float
    _hub: Hub | None
    _finish: AsyncScript
    _orphan_node: AsyncScript

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
