"""Heartbeats and failure: each node says it is alive, and the survivors take over the
places of a node that went silent.

Failure: every node refreshes its heartbeat each second. When one has not
been heard of for ``dead_after_s`` (SIGKILL, crash, partition), a survivor
(one, by lock) turns its places into orphans with a deadline of now plus
the grace period and tells their partners ``peer-reconnecting``; orphans not
claimed by their deadline are ended by a survivor, whose features tell the
partners ``peer-ended "disconnected"``. A node that shuts down gracefully
orphans its own places on the way out, so its clients resume elsewhere.

Owns the BEAT, SILENT and TAKE_DUE scripts, Redis' data epoch, and the janitor task
that beats, reconciles after a loss (:meth:`~connect.gateway.cluster.resume.Resume._recover`),
judges silent nodes and ends due orphans, in that order, one step at a time.
"""

from __future__ import annotations

import asyncio
import secrets
import time

import structlog
from redis.commands.core import AsyncScript

from connect.gateway.cluster.registry import REDIS_DOWN, _detached, _s
from connect.gateway.cluster.resume import Resume
from connect.storage.redis import PREFIX

log = structlog.get_logger(__name__)

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

TAKE_DUE = """
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, 100)
for _, id in ipairs(ids) do redis.call("ZREM", KEYS[1], id) end
return ids
"""


class Heartbeat(Resume):
    """The failure-handling layer of :class:`~connect.gateway.cluster.Cluster` (whose
    ``__init__`` sets this state)."""

    _dead_after_s: float
    _beat_s: float
    _beat_script: AsyncScript
    _silent: AsyncScript
    _take_due: AsyncScript
    _beat_ok_at: float
    _outage_since: float | None
    # Redis' data generation (a random value the first beat on an empty Redis sets):
    # a change means Redis lost everything and the registry must be rebuilt.
    _epoch: str
    _rebuild: bool

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
