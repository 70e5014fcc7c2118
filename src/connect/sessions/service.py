"""Who is paired with whom right now, and therefore who may signal whom.

A session is created by matching (or, later, an accepted direct call) and is
the only authority the signaling relay consults: a client never names its
partner, the relay asks :meth:`SessionService.partner_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connect import ids
from connect.clock import Clock
from connect.sessions.models import Member, Session
from connect.sessions.store import ImmediateSessionStore, SessionStore


def new_peer_id() -> str:
    return ids.token_urlsafe(9)


def _line(sender_peer_id: str, text: str, ts: int) -> dict[str, Any]:
    """A transcript line, as the partner saw it."""
    return {"from": sender_peer_id, "text": text, "ts": ts}


class SessionService:
    def __init__(
        self,
        store: SessionStore,
        clock: Clock,
        record_ttl_s: float,
        on_end: Callable[[Session, float], None] | None = None,
    ) -> None:
        """``on_end(session, duration_s)`` runs once per session, on the node that closed it
        (the session-duration histogram: every way a session ends passes :meth:`end`)."""
        self._on_end = on_end
        self._store = store
        self._now = store if isinstance(store, ImmediateSessionStore) else None
        self._clock = clock
        self._record_ttl_s = record_ttl_s

    @property
    def immediate(self) -> bool:
        """The store answers without I/O, so the ``*_now`` methods work."""
        return self._now is not None

    def current_now(self, client_id: str) -> Session | None:
        """:meth:`current` without waiting; only when :attr:`immediate`."""
        assert self._now is not None, "the session store is not immediate"
        return self._now.of_client_now(client_id)

    def record_message_now(self, session: Session, sender_peer_id: str, text: str, ts: int) -> None:
        """:meth:`record_message` without waiting; only when :attr:`immediate`."""
        assert self._now is not None, "the session store is not immediate"
        self._now.append_message_now(session.id, _line(sender_peer_id, text, ts))

    async def start(
        self,
        mode: str,
        first: Member,
        second: Member,
        common_interests: list[str],
        *,
        call_id: str | None = None,
    ) -> Session:
        session = Session(
            id=ids.uuid4_hex(),
            mode=mode,
            members=(first, second),
            common_interests=common_interests,
            started_at=self._clock.now(),
            kind="random" if call_id is None else "call",
            call_id=call_id,
        )
        await self._store.add(session)
        return session

    async def current(self, client_id: str) -> Session | None:
        return await self._store.of_client(client_id)

    async def get(self, session_id: str) -> Session | None:
        return await self._store.get(session_id)

    async def end(self, client_id: str, reason: str) -> tuple[Session, Member] | None:
        """End ``client_id``'s session; return it and the partner who must be told.

        None when there is no session, or when someone else ended it first (then
        that caller tells the partner, so the partner hears it exactly once).
        """
        session = await self._store.of_client(client_id)
        if session is None:
            return None
        partner = session.partner_of(client_id)
        assert partner is not None
        now = self._clock.now()
        closed = await self._store.close(
            session.id,
            ended_at=now,
            reason=reason,
            ended_by=client_id,
            keep_until=now + self._record_ttl_s,
        )
        if not closed:
            return None
        session.ended_at = now
        session.end_reason = reason
        session.ended_by = client_id
        if self._on_end is not None:
            self._on_end(session, max(0.0, now - session.started_at))
        return session, partner

    async def record_message(
        self, session: Session, sender_peer_id: str, text: str, ts: int
    ) -> None:
        await self._store.append_message(session.id, _line(sender_peer_id, text, ts))

    async def transcript(self, session_id: str) -> list[dict[str, object]]:
        return await self._store.transcript(session_id)

    async def live(self) -> list[Session]:
        return await self._store.live()

    async def counts(self) -> tuple[int, int]:
        """(live sessions, live direct calls): the gauges' figures, without the sessions."""
        return await self._store.counts()

    async def prune(self) -> int:
        return await self._store.prune(self._clock.now())
