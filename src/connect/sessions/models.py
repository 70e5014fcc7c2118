"""A live pairing and what is remembered of it afterwards.

The last chat lines of a session (as relayed, i.e. already masked) are kept
in memory with the session record, so a report can copy them; they are never
written anywhere unless the session is reported, and vanish with the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TRANSCRIPT_LINES = 100


@dataclass(frozen=True, slots=True)
class Member:
    """One side of a session.

    ``peer_id`` is a random name for this side that is only valid within the
    session: the partner sees it, never the device id, IP hash or socket id.
    ``subject`` is the typed subject (``guest:<device>`` / ``user:<account>``).
    """

    client_id: str
    peer_id: str
    subject: str
    ip_hash: str
    kind: str = "guest"


@dataclass(slots=True)
class Session:
    id: str
    mode: str
    members: tuple[Member, Member]
    common_interests: list[str]
    started_at: float
    ended_at: float | None = None
    end_reason: str | None = None
    ended_by: str | None = None
    messages: int = field(default=0)
    kind: str = "random"
    call_id: str | None = None

    def member(self, client_id: str) -> Member | None:
        for m in self.members:
            if m.client_id == client_id:
                return m
        return None

    def partner_of(self, client_id: str) -> Member | None:
        a, b = self.members
        if a.client_id == client_id:
            return b
        if b.client_id == client_id:
            return a
        return None

    def member_by_subject(self, subject: str) -> Member | None:
        for m in self.members:
            if m.subject == subject:
                return m
        return None
