"""Payloads of the matchmaking events."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from connect.framecheck.schemas import FrameCheck
from connect.geo.countries import COUNTRY_CODES
from connect.matching.rules import Criterion, Mode
from connect.schemas import WireModel, omitted_if_none
from connect.turn.schemas import IceServer

Interest = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=32)
]
MAX_INTERESTS = 10
MAX_COUNTRIES = 20


def _known_country(code: str) -> str:
    upper = code.upper()
    if upper not in COUNTRY_CODES:
        raise ValueError(f"not an ISO 3166-1 alpha-2 country code: {code!r}")
    return upper


CountryCode = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$"),
    AfterValidator(_known_country),
]


class JoinQueue(WireModel):
    mode: Mode
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    region: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{2,32}$")
    interests: list[Interest] = Field(default_factory=list, max_length=MAX_INTERESTS)
    countries: list[CountryCode] = Field(
        default_factory=list,
        max_length=MAX_COUNTRIES,
        description="(ext) meet only people from these countries (ISO 3166-1 alpha-2)",
    )
    country: Literal["any", "mine"] = Field(
        default="any", description="(ext) mine: add my own detected country to countries"
    )
    hide_country: bool = Field(default=False, description="(ext) never tell the partner my country")
    update: bool = Field(
        default=False,
        description="(ext) already waiting: replace the criteria, keep the place in the queue",
    )
    peer_id: str | None = Field(default=None, max_length=128, description="ignored (old clients)")

    @field_validator("interests", "countries")
    @classmethod
    def _dedupe(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))


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


class JoinedAck(WireModel):
    """The ack of ``join-queue``: ``country`` is the visitor's detected country (or null)."""

    queued: bool
    country: str | None


class QueueStatusRequest(WireModel):
    """``queue-status`` from the client: the counts now (cheap, cached)."""

    mode: Mode | None = Field(
        default=None, description="count this mode (default: mine while waiting, else all)"
    )


class QueueCounts(WireModel):
    """The ack of ``queue-status``."""

    online: int
    waiting: int
    country: str | None


class QueueStatus(WireModel):
    """``queue-status`` pushed to a waiting visitor every few seconds."""

    online: int = Field(description="sockets connected, all nodes")
    waiting: int = Field(description="visitors waiting in my mode, me included")
    elapsed_ms: int = Field(description="since I started waiting")
    narrow: list[Criterion] = Field(description="my criteria that still restrict whom I meet")


class MatchTimeout(WireModel):
    """Sent once per wait after CONNECT_MATCH_TIMEOUT_S; the visitor stays queued."""

    waited_ms: int
    suggest: list[Criterion] = Field(description="criteria the visitor could drop")


class Matched(WireModel):
    session_id: str
    peer_id: str
    initiator: bool
    mode: Mode
    common_interests: list[str]
    ice_servers: list[IceServer]
    country: str | None = omitted_if_none(
        description="(ext) the partner's country, unless unknown or hidden"
    )
    frame_check: FrameCheck | None = omitted_if_none(
        description="(ext) video sessions with frame checking on: how to sample my camera"
    )


class PeerEnded(WireModel):
    reason: Literal["ended", "skipped", "disconnected", "banned"]


class PeerReconnecting(WireModel):
    pass


class PeerReconnected(WireModel):
    pass
