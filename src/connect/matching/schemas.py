"""Payloads of the matchmaking events."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from connect.matching.rules import Mode
from connect.schemas import WireModel
from connect.turn.schemas import IceServer

Interest = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=32)
]
MAX_INTERESTS = 10


class JoinQueue(WireModel):
    mode: Mode
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    region: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{2,32}$")
    interests: list[Interest] = Field(default_factory=list, max_length=MAX_INTERESTS)
    peer_id: str | None = Field(default=None, max_length=128, description="ignored (old clients)")

    @field_validator("interests")
    @classmethod
    def _dedupe(cls, interests: list[str]) -> list[str]:
        return list(dict.fromkeys(interests))


class Empty(WireModel):
    peer_id: str | None = Field(default=None, max_length=128, description="ignored (old clients)")


class Next(WireModel):
    """``next``: skip, and with ``avoid`` never be matched with that person again."""

    avoid: bool = Field(
        default=False,
        description="(ext) never match me with the partner I leave (or of sessionId) again",
    )
    session_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{32}$",
        description="(ext) with avoid after a peer-ended: the chat that ended",
    )
    peer_id: str | None = Field(default=None, max_length=128, description="ignored (old clients)")


class Queued(WireModel):
    since: int


class JoinAck(WireModel):
    queued: bool


class Matched(WireModel):
    session_id: str
    peer_id: str
    initiator: bool
    mode: Mode
    common_interests: list[str]
    ice_servers: list[IceServer]


class PeerEnded(WireModel):
    reason: Literal["ended", "skipped", "disconnected", "banned"]


class PeerReconnecting(WireModel):
    pass


class PeerReconnected(WireModel):
    pass
