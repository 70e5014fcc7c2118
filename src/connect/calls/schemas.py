"""Shapes of direct calls (REST and gateway pushes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from connect.contacts.schemas import UserOut
from connect.schemas import WireModel, omitted_if_none
from connect.turn.schemas import IceServer

CallMedia = Literal["video", "audio"]


class CallIn(WireModel):
    callee_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    media: CallMedia
    connection_id: str | None = Field(
        default=None,
        max_length=64,
        description="the caller's gateway connection that will carry the call",
    )


class RespondIn(WireModel):
    accept: bool
    connection_id: str | None = Field(
        default=None, max_length=64, description="the callee's gateway connection that answers"
    )


class EndIn(WireModel):
    reason: str = Field(default="hangup", max_length=32, pattern=r"^[a-z_]+$")


class CallEventOut(WireModel):
    """(ext) One step of the call's record."""

    at: datetime
    kind: str
    user_id: str | None
    detail: dict[str, Any] | None


class CallQuality(WireModel):
    """(ext) Summary of both sides' call-stats samples; each null when no sample had it."""

    samples: int
    rtt_ms_avg: float | None
    rtt_ms_max: float | None
    loss_pct_avg: float | None
    loss_pct_max: float | None
    bitrate_kbps_avg: float | None
    candidate_types: list[str]


class CallOut(WireModel):
    call_id: str
    status: Literal["ringing", "accepted", "rejected", "cancelled", "missed", "ended", "busy"]
    caller: UserOut
    callee: UserOut
    media: CallMedia
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    duration_s: float | None
    events: list[CallEventOut] = Field(default_factory=list, description="(ext)")
    quality: CallQuality | None = Field(default=None, description="(ext)")


class CallList(WireModel):
    calls: list[CallOut]


class IncomingCall(WireModel):
    call_id: str
    caller: UserOut
    media: CallMedia


class CallAccepted(WireModel):
    """Session details for the two connections carrying the call.

    Every other device of either user gets only ``answeredElsewhere`` (stop ringing).
    """

    call_id: str
    answered_elsewhere: bool = False
    session_id: str | None = omitted_if_none()
    peer_id: str | None = omitted_if_none()
    initiator: bool | None = omitted_if_none()
    media: CallMedia | None = omitted_if_none()
    ice_servers: list[IceServer] | None = omitted_if_none()


class CallRejected(WireModel):
    call_id: str


class CallEnded(WireModel):
    call_id: str
    reason: str


class CallMissed(WireModel):
    call_id: str
