"""The cluster node: :class:`Cluster` stacks the layers of this package and owns the
state they share, its start and stop, and its readiness.

One class still holds the one subscription state and the one data epoch the layers
share: reconciliation after a Redis fault must re-register places, replay gaps and judge
peers as one step. Each layer declares the attributes it uses; ``__init__`` here sets
them all, so a node's whole state reads in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from typing import TYPE_CHECKING

import redis.asyncio as redis

from connect.gateway.cluster.heartbeat import BEAT, SILENT, TAKE_DUE, Heartbeat
from connect.gateway.cluster.registry import FINISH, ORPHAN_NODE, REDIS_DOWN
from connect.gateway.cluster.relay import ROUTE
from connect.gateway.cluster.resume import CLAIM, REREGISTER
from connect.gateway.cluster.sentinel import PrimaryWatch
from connect.storage.redis import PREFIX

if TYPE_CHECKING:
    from connect.gateway.hub import Hub


class Cluster(Heartbeat, PrimaryWatch):
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
        self._outbox = asyncio.Queue()
        self._dropped = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._pubsub = None
        self._link = None
        self._hub = None
        self._broadcast_handlers = []
        self._incarnation = secrets.token_hex(6)
        self._seq = 0
        self._listening = False
        self._losses = 0
        self._recovered = 0
        self._beat_ok_at = float("-inf")
        self._outage_since = None
        self.recoveries = 0
        self._epoch = ""
        self._rebuild = False
        self._primary = None
        self._resubscribe = False
        self._held = {}
        self._broadcasts = deque()
        self._primary_unknown = False

    def attach(self, hub: Hub) -> None:
        self._hub = hub
        hub.cluster = self

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
        self._close_link()
