"""Relaying signaling and chat to the current partner, and nobody else.

The relay never takes a destination from the client: it looks up the
sender's session and forwards to the other member, naming the sender by its
per-session ``peerId``. Outside a session every relay is refused, so a third
socket cannot inject into someone else's call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connect.clock import Clock
from connect.delivery import NOT_IN_SESSION, WRONG_MODE, Deliverer, PartnerRelay
from connect.errors import ConnectError
from connect.events.service import NO_EVENTS, Publisher
from connect.observability.metrics import Metrics
from connect.sessions.models import Member, Session
from connect.sessions.service import SessionService
from connect.signaling.schemas import CallStats
from connect.signaling.textfilter import TextFilter

MEDIA_EVENTS = frozenset({"offer", "answer", "candidate"})


class RelayService:
    def __init__(
        self,
        *,
        sessions: SessionService,
        deliverer: Deliverer,
        text_filter: TextFilter,
        clock: Clock,
        metrics: Metrics,
        events: Publisher = NO_EVENTS,
        partners: PartnerRelay | None = None,
    ) -> None:
        """``partners``: where sessions are shared (a cluster), relays go through it, which
        finds the partner and routes in one atomic step (see :meth:`message`)."""
        self._partners = partners
        self._events = events
        self._sessions = sessions
        self._deliver = deliverer
        self._filter = text_filter
        self._clock = clock
        self._metrics = metrics
        # (ext) Told of each call-stats frame of a direct call: (call id, subject, stats).
        self.on_call_stats: Callable[[str, str, CallStats], None] | None = None
        self._relayed = {
            kind: metrics.relayed.labels(kind)
            for kind in (
                "offer",
                "answer",
                "candidate",
                "message",
                "typing",
                "media-state",
                "reaction",
            )
        }

    @property
    def immediate(self) -> bool:
        """Sessions answer without I/O: the ``*_now`` methods work (see dispatch)."""
        return self._sessions.immediate

    async def relay(self, client_id: str, kind: str, body: dict[str, Any]) -> None:
        """Forward ``{"from": <my peerId>, **body}`` as event ``kind`` to my partner."""
        if self._partners is not None:
            await self._partners.to_partner(client_id, kind, body, media=kind in MEDIA_EVENTS)
            self._relayed[kind].inc()
            return
        self._forward(await self._sessions.current(client_id), client_id, kind, body)

    def relay_now(self, client_id: str, kind: str, body: dict[str, Any]) -> None:
        """:meth:`relay` without waiting; only when :attr:`immediate`."""
        self._forward(self._sessions.current_now(client_id), client_id, kind, body)

    async def message(self, client_id: str, text: str) -> dict[str, Any]:
        """Relay a chat line, masked by the word filter; return what the partner saw.

        With shared sessions, one step (one script call in Redis, pipelined with the
        node's other routing) finds the partner, appends the transcript and routes the
        line, and returns only after it: an acknowledged line is in the transcript and
        with the partner's node (or its gap), and goes to whoever is the partner at
        that moment, never to an ex-partner. Before, the node read the session, queued
        the line and appended the transcript in three Redis round trips, each ~100 µs
        of the node's CPU, and the line could be routed after the partner had left."""
        if self._partners is not None:
            clean = self._filter.mask(text)
            ts = int(self._clock.now() * 1000)
            mode = await self._partners.to_partner(
                client_id, "message", {"text": clean, "ts": ts}, transcript=True
            )
            self._relayed["message"].inc()
            self._events.publish("message.sent", strand="strangers", mode=mode)
            return {"text": clean, "ts": ts}
        session, me, partner = _pair(await self._sessions.current(client_id), client_id)
        clean, ts = self._chat(session, me, partner, text)
        await self._sessions.record_message(session, me.peer_id, clean, ts)
        return {"text": clean, "ts": ts}

    def message_now(self, client_id: str, text: str) -> dict[str, Any]:
        """:meth:`message` without waiting; only when :attr:`immediate`."""
        session, me, partner = _pair(self._sessions.current_now(client_id), client_id)
        clean, ts = self._chat(session, me, partner, text)
        self._sessions.record_message_now(session, me.peer_id, clean, ts)
        return {"text": clean, "ts": ts}

    async def call_stats(self, client_id: str, stats: CallStats) -> None:
        self._count_stats(await self._sessions.current(client_id), stats, client_id)

    def call_stats_now(self, client_id: str, stats: CallStats) -> None:
        """:meth:`call_stats` without waiting; only when :attr:`immediate`."""
        self._count_stats(self._sessions.current_now(client_id), stats, client_id)

    def _forward(
        self, session: Session | None, client_id: str, kind: str, body: dict[str, Any]
    ) -> None:
        session, me, partner = _pair(session, client_id)
        if kind in MEDIA_EVENTS and session.mode == "text":
            raise ConnectError("wrong_mode", WRONG_MODE)
        self._deliver.deliver(partner.client_id, kind, {"from": me.peer_id, **body})
        self._relayed[kind].inc()

    def _chat(self, session: Session, me: Member, partner: Member, text: str) -> tuple[str, int]:
        """Deliver a chat line, masked; return the masked text and its timestamp."""
        clean = self._filter.mask(text)
        ts = int(self._clock.now() * 1000)
        self._deliver.deliver(
            partner.client_id, "message", {"from": me.peer_id, "text": clean, "ts": ts}
        )
        self._relayed["message"].inc()
        self._events.publish("message.sent", strand="strangers", mode=session.mode)
        return clean, ts

    def _count_stats(self, session: Session | None, stats: CallStats, client_id: str) -> None:
        if session is None:
            raise ConnectError("not_in_session", NOT_IN_SESSION)
        self._metrics.call_stats.labels(stats.ice_state, stats.candidate_type or "unknown").inc()
        if session.call_id is not None and self.on_call_stats is not None:
            me = next((m for m in session.members if m.client_id == client_id), None)
            if me is not None:
                self.on_call_stats(session.call_id, me.subject, stats)


def _pair(session: Session | None, client_id: str) -> tuple[Session, Member, Member]:
    """The session, me and my partner in it; refused outside a session."""
    if session is None:
        raise ConnectError("not_in_session", NOT_IN_SESSION)
    me = session.member(client_id)
    partner = session.partner_of(client_id)
    assert me is not None
    assert partner is not None
    return session, me, partner
