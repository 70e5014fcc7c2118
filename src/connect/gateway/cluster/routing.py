"""Routing: frames to the node holding their client, and this node's subscription that
receives frames, releases and broadcasts from the others.

Why one ~400-line module (over 400 lines on purpose): the outbox and the subscription's
handling share the delivery rules below (gaps, held frames, hand-over to this node).

Delivery: a frame for a client this node does not hold goes to the holder's
channel ``connect:node:<node>`` (pub/sub). One outbox task per node sends in
FIFO order, so frames to a client keep their order. Frames for an orphan go
to its ``gap`` list, and so do frames for a client the registry does not know
(``-1``): after Redis restarted empty, a place stays unknown until its holder's
reconciliation re-registers it, and that takes the gap back, in order (see
:meth:`~connect.gateway.cluster.resume.Resume._recover`). A client that is really
gone never collects it: the list expires with the gap's TTL, unread, as the
frame to a finished place was dropped before.

Relays to a session partner (:meth:`Routing.to_partner`: chat lines, typing, signaling)
go through the same outbox, in the same order, each one ``ROUTE`` call that finds the
partner and routes atomically (:mod:`connect.gateway.cluster.relay`).

Owns the outbox (calling ``ROUTE`` over its own connection,
:mod:`connect.gateway.cluster.commands`) and its retries while Redis is away, and the
subscription (:mod:`connect.gateway.cluster.subscription`: frames are pushed from its
read callback) and its listener. The listener only counts a lost subscription; the
heartbeat layer (:mod:`connect.gateway.cluster.heartbeat`) reconciles it. (A little over
400 lines: the outbox and the subscription's handling share the delivery rules above.)
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import hiredis
import orjson
import structlog
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError, ResponseError

from connect.errors import unavailable
from connect.gateway.cluster.commands import CommandLink
from connect.gateway.cluster.registry import REDIS_DOWN, Registry, _s
from connect.gateway.cluster.relay import RELAY_WAIT_S, ROUTE, Relay
from connect.gateway.cluster.subscription import Subscription, command
from connect.sessions.models import TRANSCRIPT_LINES
from connect.sessions.store import RedisSessionStore
from connect.storage.redis import PREFIX

log = structlog.get_logger(__name__)
GAP_FRAMES = 256
# How long a relayed frame is retried while Redis is unreachable before it is dropped
# (its target's place outlives an outage only by the grace period anyway).
FORWARD_RETRY_S = 60.0
# At most this many frames routed in one pipeline (what queued while the last one ran).
OUTBOX_BATCH = 256
LINE_TTL_S = RedisSessionStore.LIVE_TTL_S
# Error replies that mean "this server cannot route now" (redis-py raises a
# ``ConnectionError`` for them: ``BusyLoadingError``, or Sentinel's read-only primary).
UNREACHABLE_REPLIES = ("LOADING", "READONLY", "MASTERDOWN")


class Routing(Registry):
    """The delivery layer of :class:`~connect.gateway.cluster.Cluster` (whose ``__init__``
    sets this state)."""

    _route_script: AsyncScript
    _outbox: asyncio.Queue[tuple[str, str, Any, float]]
    _dropped: int  # frames given up on during the current outage
    _broadcast_handlers: list[Callable[[dict[str, Any]], Awaitable[None]]]
    # Source sequence of routed frames: a retry after an ambiguous failure (a timeout
    # while Redis was stalled) is recognised by Redis and not delivered twice.
    _incarnation: str
    _seq: int
    _pubsub: Subscription | None
    _link: CommandLink | None  # the outbox's connection
    # Broadcasts received, for the listener's task to hand to their (async) handlers.
    _broadcasts: deque[dict[str, Any]]
    _listening: bool
    _losses: int  # subscriptions lost (or registry found lost) so far
    # A subscription found on another server than the primary Sentinel names.
    _resubscribe: bool
    # Frames received for a client while its place is being re-registered (one script
    # call): pushed after the gap that call took, so they keep their order.
    _held: dict[str, list[str]]

    @property
    def channel(self) -> str:
        return f"{PREFIX}node:{self.node}"

    def on_broadcast(self, handler: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self._broadcast_handlers.append(handler)

    async def broadcast(self, message: dict[str, Any]) -> None:
        await self._r.publish(f"{PREFIX}broadcast", orjson.dumps(message))

    def forward(self, client_id: str, frame: str) -> None:
        self._outbox.put_nowait(("c", client_id, frame, time.monotonic()))

    async def to_partner(
        self,
        client_id: str,
        event: str,
        data: Mapping[str, Any],
        *,
        transcript: bool = False,
        media: bool = False,
    ) -> str:
        """Relay ``event`` with ``{"from": <sender's peerId>, **data}`` to ``client_id``'s
        partner, in order with every frame this node routes; return the session's mode.

        One ``ROUTE`` call finds the session, appends a chat line to its transcript
        (``transcript``) and routes, so the line is durable and handed to the partner's
        holder (or its gap) before this returns; queued in the outbox, so the calls of
        a loop turn share one pipeline. Refused with ``not_in_session`` outside a live
        session, ``wrong_mode`` for ``media`` in a text session; ``unavailable`` when
        Redis has not answered within ``RELAY_WAIT_S`` (a relay not sent by then is
        dropped; one sent whose answer was lost may have been delivered)."""
        tail = orjson.dumps(data).decode()
        tail = "}" if tail == "{}" else "," + tail[1:]
        kind = "l" if transcript else "m" if media else "r"
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[str] = loop.create_future()
        # A plain timer, not ``asyncio.timeout``: its context manager cost the node ~5 µs
        # a line (py-spy: 4-8% of a node's samples at 2,000 lines/s).
        timer = loop.call_later(RELAY_WAIT_S, _expire, waiter)
        self._outbox.put_nowait(
            ("r", client_id, Relay(event, kind, tail, waiter), time.monotonic())
        )
        try:
            return await waiter
        finally:
            timer.cancel()
            waiter.cancel()  # a relay still queued is dropped, not sent after the refusal

    def forward_subject(self, subject: str, frame: str, skip: set[str]) -> None:
        self._outbox.put_nowait(("s", subject, (frame, skip), time.monotonic()))

    async def _send_outbox(self) -> None:
        """Send queued frames in order, all that have queued (up to ``OUTBOX_BATCH``) in
        one pipeline of ``ROUTE`` calls; while Redis is unreachable, wait for it: a frame
        queued more than ``FORWARD_RETRY_S`` ago is given up (the outbox stays bounded in
        time, however long the outage).

        Why a pipeline: with one script call in flight, the outbox sent at most one frame
        per round trip, and a round trip includes waiting for this node's busy event
        loop; at 2,000 frames/s over three nodes the queue grew faster than it drained
        (seconds of delay, ``bench/cluster.py``). Redis runs one connection's commands
        in the order sent, so frames keep their order, and the source sequence numbers
        let a retried batch skip the frames Redis had already routed.
        """
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < OUTBOX_BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                routes: list[tuple[str, Any, float]] = []
                for kind, target, payload, queued in batch:
                    give_up = queued + FORWARD_RETRY_S
                    if kind != "s":
                        routes.append((target, payload, give_up))
                        continue
                    await self._route(routes)  # what came before, first
                    routes = []
                    frame, skip = payload
                    members = await self._retrying(
                        functools.partial(self._r.smembers, f"{PREFIX}subj:{target}"), give_up
                    )
                    await self._route(
                        [(_s(c), frame, give_up) for c in members or () if _s(c) not in skip]
                    )
                await self._route(routes)
            except Exception:
                log.exception("cluster_forward_failed")
            finally:
                for kind, _, payload, _ in batch:
                    if kind == "r":
                        payload.fail()  # never left waiting (no-op once answered)
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

    async def _route(self, frames: list[tuple[str, Any, float]]) -> None:
        """Publish each ``(client_id, frame or relay, give_up)`` to its client's holder (a
        relay: to the sender's partner), in order, in one pipeline; if nobody listens
        there (its node died or lost its subscription) or the registry does not know the
        client (Redis restarted empty and its holder has not re-registered it yet), the
        script keeps the frame in the place's gap list instead, atomically, for the
        resume or the holder's recovery to replay. While Redis is unreachable the batch
        is retried with backoff, less the frames past their ``give_up`` (the oldest: the
        batch is in queue order) and the relays whose sender stopped waiting."""
        if not frames:
            return
        seq_key = f"{PREFIX}seq:{self.node}:{self._incarnation}"
        ttl = int(self._grace_s) + 60
        calls: list[tuple[str, Any, float, tuple[Any, ...]]] = []
        for client_id, frame, give_up in frames:
            self._seq += 1
            if isinstance(frame, Relay):
                args: tuple[Any, ...] = (
                    *(seq_key, PREFIX, client_id, self.node, frame.event, self._seq, ""),
                    *(ttl, GAP_FRAMES, frame.kind, frame.tail, TRANSCRIPT_LINES, LINE_TTL_S),
                )
            else:
                message = orjson.dumps({"t": "f", "c": client_id, "x": frame})
                args = (seq_key, PREFIX, client_id, self.node, frame, self._seq, message, ttl)
                args = (*args, GAP_FRAMES)
            calls.append((client_id, frame, give_up, args))
        delay = 0.05
        while True:
            # A relay whose sender was told ``unavailable`` meanwhile is never sent.
            calls = [call for call in calls if not _abandoned(call[1])]
            if not calls:
                return
            try:
                # Connecting may take a while (Redis away); a relay abandoned meanwhile
                # must not go out on the new connection: looked at again, then written
                # without an await in between.
                await self._open_link()
                calls = [call for call in calls if not _abandoned(call[1])]
                if not calls:
                    return
                outcomes = await self._run_routes([call[3] for call in calls])
            except REDIS_DOWN as exc:
                now = time.monotonic()
                kept = [call for call in calls if call[2] >= now]
                if len(kept) < len(calls):
                    if not self._dropped:
                        log.warning("cluster_forward_dropping", error=type(exc).__name__)
                    self._dropped += len(calls) - len(kept)
                    calls = kept
                if calls:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
                continue
            if self._dropped:
                log.warning("cluster_forward_dropped", frames=self._dropped)
                self._dropped = 0
            for (client_id, frame, _, _), outcome in zip(calls, outcomes, strict=True):
                if isinstance(frame, Relay):
                    here = frame.answer(outcome)
                    if here is not None:
                        self._push_here(*here)
                elif outcome == 0:  # the client came to this node meanwhile
                    self._push_here(client_id, frame)
            return

    def _push_here(self, client_id: str, frame: str) -> None:
        assert self._hub is not None
        local = self._hub.get(client_id)
        if local is not None:
            local.push(frame)

    async def _run_routes(self, calls: list[tuple[Any, ...]]) -> list[Any]:
        """One pipeline of ``ROUTE`` calls by SHA (``EVALSHA``, keys first) on the outbox's
        connection (:class:`~connect.gateway.cluster.commands.CommandLink`, opened again
        when it broke); the script is loaded again once if Redis does not know it
        (restarted empty, or a new primary). An error reply raises (the first one)."""
        for attempt in (1, 2):
            link = await self._open_link()
            sha = self._route_script.sha
            packed = b"".join([command("EVALSHA", sha, 1, *args) for args in calls])
            replies = await link.run(packed, len(calls))
            errors = [str(r) for r in replies if isinstance(r, hiredis.ReplyError)]
            if not errors:
                return replies
            if errors[0].startswith(UNREACHABLE_REPLIES):
                # Loading its data after a restart, or no longer (or not yet) a writable
                # primary: Redis is unreachable for routing, as redis-py judges these.
                self._close_link()
                raise ConnectionError(errors[0])
            if not errors[0].startswith("NOSCRIPT") or attempt == 2:
                raise ResponseError(errors[0])
            self._route_script.sha = await self._r.script_load(ROUTE)
        raise AssertionError("not reached")

    async def _open_link(self) -> CommandLink:
        link = self._link
        if link is None or link.closed:
            link = self._link = await CommandLink.open(self._r)
        return link

    def _close_link(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.close()

    async def _subscribe(self) -> Subscription:
        self._pubsub = await Subscription.open(
            self._r, [self.channel, f"{PREFIX}broadcast"], self._on_message
        )
        self._listening = True
        return self._pubsub

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            pubsub.close()

    async def _listen(self) -> None:
        """Run the broadcasts' handlers (frames are pushed by the subscription's read
        callback, :meth:`_on_message`); after a lost subscription, resubscribe with backoff
        and have the janitor reconcile (:meth:`_recover`)."""
        delay = 0.1
        while True:
            try:
                if self._pubsub is None:
                    self._pubsub = await self._subscribe()
                    self._losses += 1
                    log.warning("cluster_listener_restored")
                delay = 0.1
                subscription = self._pubsub
                while not self._resubscribe:
                    if not self._broadcasts:
                        await subscription.wait(1.0)
                    while self._broadcasts:
                        await self._on_broadcast(self._broadcasts.popleft())
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
                    log.warning("cluster_listener_lost", error=type(exc).__name__, why=str(exc))
                self._listening = False
            except Exception:
                self._listening = False
                log.exception("cluster_listener_failed")
            await self._close_pubsub()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _on_message(self, channel: bytes, raw: bytes) -> None:
        """A message from the subscription, in the read callback: a frame is pushed to its
        client here (or held behind its gap, or forwarded on when its client left this
        node), a release done; a broadcast waits for the listener's task (its handlers
        are coroutines), in order."""
        hub = self._hub
        assert hub is not None
        try:
            data = orjson.loads(raw)
            kind = data.get("t")
            if kind == "f":
                held = self._held.get(data["c"])
                client = hub.get(data["c"])
                if held is not None:
                    held.append(data["x"])  # behind its gap, which the reconciliation takes
                elif client is not None:
                    client.push(data["x"])
                else:
                    self.forward(data["c"], data["x"])
            elif kind == "release":
                for frame in hub.release(data["c"]):
                    self.forward(data["c"], frame)
            else:
                self._broadcasts.append(data)
                if self._pubsub is not None:
                    self._pubsub.wake()
        except Exception:
            log.exception("cluster_message_failed")

    async def _on_broadcast(self, data: dict[str, Any]) -> None:
        try:
            for handler in self._broadcast_handlers:
                await handler(data)
        except REDIS_DOWN as exc:
            # A handler that needed Redis (a broadcast's follow-up): the subscription's
            # own read notices a real loss; this message's effect is skipped.
            log.warning("cluster_message_skipped", error=type(exc).__name__)
        except Exception:
            log.exception("cluster_message_failed")


def _abandoned(frame: object) -> bool:
    """A relay whose sender no longer waits: dropped from a retried batch, not counted."""
    return isinstance(frame, Relay) and frame.abandoned


def _expire(waiter: asyncio.Future[str]) -> None:
    """A relay's sender has waited ``RELAY_WAIT_S``: refuse it; the outbox drops it unsent."""
    if not waiter.done():
        waiter.set_exception(unavailable())
