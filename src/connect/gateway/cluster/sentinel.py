"""Following a Sentinel-promoted primary: which Redis server this node's subscription
should be on.

Owns the primary watch, a task of its own. It only notices that the subscription is on
another server than the primary Sentinel names and asks the listener
(:mod:`connect.gateway.cluster.routing`) to move it; the move counts as a loss, which
the heartbeat layer reconciles like any other.
"""

from __future__ import annotations

import asyncio

import structlog

from connect.gateway.cluster.registry import REDIS_DOWN
from connect.gateway.cluster.routing import Routing
from connect.storage.redis import current_primary

log = structlog.get_logger(__name__)


class PrimaryWatch(Routing):
    """The Sentinel layer of :class:`~connect.gateway.cluster.Cluster` (whose ``__init__``
    sets this state)."""

    _primary: tuple[str, int] | None  # the primary Sentinel last named
    _primary_unknown: bool

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
        where = self._pubsub.address if self._pubsub is not None else None
        if where is not None and where != primary and not self._resubscribe:
            log.warning("cluster_subscription_moving", was=f"{where[0]}:{where[1]}")
            self._resubscribe = True
        if self._link is not None and self._link.address != primary:
            self._close_link()  # the outbox's next batch connects to the primary
        return True
