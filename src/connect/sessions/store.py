"""Live sessions and the short memory of ended ones.

Ended sessions stay readable for ``session_record_ttl_s`` so that a report
filed shortly after a call can be checked against who was in it; no session
data is written to durable storage unless someone reports it.
"""

from __future__ import annotations

from typing import Protocol

from connect.sessions.models import Session


class SessionStore(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: str) -> Session | None: ...

    async def of_client(self, client_id: str) -> Session | None: ...

    async def close(self, session: Session, keep_until: float) -> None:
        """Detach the session from its members, keeping its record until ``keep_until``."""
        ...

    async def live(self) -> list[Session]: ...

    async def prune(self, now: float) -> int: ...


class MemorySessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._by_client: dict[str, str] = {}
        self._expiry: dict[str, float] = {}

    async def add(self, session: Session) -> None:
        self._sessions[session.id] = session
        for m in session.members:
            self._by_client[m.client_id] = session.id

    async def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    async def of_client(self, client_id: str) -> Session | None:
        sid = self._by_client.get(client_id)
        return self._sessions.get(sid) if sid is not None else None

    async def close(self, session: Session, keep_until: float) -> None:
        for m in session.members:
            if self._by_client.get(m.client_id) == session.id:
                del self._by_client[m.client_id]
        self._expiry[session.id] = keep_until

    async def live(self) -> list[Session]:
        return [s for s in self._sessions.values() if s.ended_at is None]

    async def prune(self, now: float) -> int:
        expired = [sid for sid, until in self._expiry.items() if until <= now]
        for sid in expired:
            del self._expiry[sid]
            self._sessions.pop(sid, None)
        return len(expired)
