"""Relaying signaling and chat to the current partner, and nobody else.

The relay never takes a destination from the client: it looks up the
sender's session and forwards to the other member, naming the sender by its
per-session ``peerId``. Outside a session every relay is refused, so a third
socket cannot inject into someone else's call.
"""

from __future__ import annotations

from typing import Any

from connect.clock import Clock
from connect.delivery import Deliverer
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
    ) -> None:
        self._events = events
        self._sessions = sessions
        self._deliver = deliverer
        self._filter = text_filter
        self._clock = clock
        self._metrics = metrics
        self._relayed = {
            kind: metrics.relayed.labels(kind)
            for kind in ("offer", "answer", "candidate", "message", "typing")
        }

    async def relay(self, client_id: str, kind: str, body: dict[str, Any]) -> None:
        """Forward ``{"from": <my peerId>, **body}`` as event ``kind`` to my partner."""
        session, me, partner = await self._pair(client_id)
        if kind in MEDIA_EVENTS and session.mode == "text":
            raise ConnectError("wrong_mode", "this is a text session: no media signaling")
        self._deliver.deliver(partner.client_id, kind, {"from": me.peer_id, **body})
        self._relayed[kind].inc()

    async def message(self, client_id: str, text: str) -> dict[str, Any]:
        """Relay a chat line, masked by the word filter; return what the partner saw."""
        session, me, partner = await self._pair(client_id)
        clean = self._filter.mask(text)
        ts = int(self._clock.now() * 1000)
        self._deliver.deliver(
            partner.client_id, "message", {"from": me.peer_id, "text": clean, "ts": ts}
        )
        await self._sessions.record_message(session, me.peer_id, clean, ts)
        self._relayed["message"].inc()
        self._events.publish("message.sent", strand="strangers", mode=session.mode)
        return {"text": clean, "ts": ts}

    async def call_stats(self, client_id: str, stats: CallStats) -> None:
        await self._pair(client_id)
        self._metrics.call_stats.labels(stats.ice_state, stats.candidate_type or "unknown").inc()

    async def _pair(self, client_id: str) -> tuple[Session, Member, Member]:
        session = await self._sessions.current(client_id)
        if session is None:
            raise ConnectError("not_in_session", "not in a session: nothing to relay to")
        me = session.member(client_id)
        partner = session.partner_of(client_id)
        assert me is not None
        assert partner is not None
        return session, me, partner
