"""Payloads of signaling and chat relay.

Sizes are bounded here, at the edge: an SDP may not exceed 16 KiB and a chat
line 1000 characters (PROTOCOL.md), whatever the frame limit would allow.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connect.schemas import WireModel, omitted_if_none

MAX_SDP = 16 * 1024
IGNORED_PEER = Field(default=None, max_length=128, description="ignored (old clients)")


class SessionDescription(WireModel):
    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: str = Field(max_length=MAX_SDP)


class IceCandidate(WireModel):
    candidate: str = Field(max_length=1024)
    sdp_mid: str | None = omitted_if_none(max_length=64)
    sdp_m_line_index: int | None = omitted_if_none(ge=0, le=64)
    username_fragment: str | None = omitted_if_none(max_length=256)


class SendOffer(WireModel):
    offer: SessionDescription
    peer_id: str | None = IGNORED_PEER


class SendAnswer(WireModel):
    answer: SessionDescription
    peer_id: str | None = IGNORED_PEER


class SendCandidate(WireModel):
    candidate: IceCandidate | None
    peer_id: str | None = IGNORED_PEER


class SendMessage(WireModel):
    text: str = Field(min_length=1, max_length=1000)
    peer_id: str | None = IGNORED_PEER


class Typing(WireModel):
    active: bool
    peer_id: str | None = IGNORED_PEER


class MediaState(WireModel):
    """(ext) My microphone and camera, for the partner's screen ("muted", "no camera")."""

    audio: bool = Field(description="my microphone track is sending")
    video: bool = Field(description="my camera track is sending")
    camera: Literal["ok", "none", "denied"] | None = omitted_if_none(
        description="ok, none (no camera), denied (permission refused)"
    )
    peer_id: str | None = IGNORED_PEER


#: The reactions a visitor may send: a short list every UI can show (and translate).
REACTIONS = ("👍", "👎", "😂", "❤️", "😮", "😢", "👏", "🔥", "👋", "🎉")
Reaction = Literal["👍", "👎", "😂", "❤️", "😮", "😢", "👏", "🔥", "👋", "🎉"]


class SendReaction(WireModel):
    """(ext) An emoji reaction to the partner, from :data:`REACTIONS` only."""

    emoji: Reaction
    peer_id: str | None = IGNORED_PEER


class EndCall(WireModel):
    peer_id: str | None = IGNORED_PEER


class CallStats(WireModel):
    ice_state: Literal[
        "new", "checking", "connected", "completed", "disconnected", "failed", "closed"
    ]
    candidate_type: Literal["host", "srflx", "prflx", "relay"] | None = None
    rtt_ms: float | None = Field(default=None, ge=0, le=60_000)
    # (ext) Kept in a direct call's quality record (docs/protocol.md, Direct calls).
    loss_pct: float | None = Field(default=None, ge=0, le=100)
    bitrate_kbps: float | None = Field(default=None, ge=0, le=100_000)
    restart: bool | None = Field(default=None, description="an ICE restart just began")


class _FromPeer(WireModel):
    from_: str = Field(alias="from", description="the sender's per-session peerId")


class RelayedOffer(_FromPeer):
    offer: SessionDescription


class RelayedAnswer(_FromPeer):
    answer: SessionDescription


class RelayedCandidate(_FromPeer):
    candidate: IceCandidate | None


class ChatMessage(_FromPeer):
    text: str
    ts: int = Field(description="server time, ms since the epoch")


class TypingRelay(_FromPeer):
    active: bool


class MediaStateRelay(_FromPeer):
    audio: bool
    video: bool
    camera: Literal["ok", "none", "denied"] | None = omitted_if_none()


class ReactionRelay(_FromPeer):
    emoji: Reaction


class ChatSent(WireModel):
    """The ack of send-message: the text as the partner saw it (after masking)."""

    text: str
    ts: int
