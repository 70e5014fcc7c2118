"""Wire shapes of frame moderation: the sampling policy in ``matched``, the upload's
answer, and the two gateway events a hit sends (docs/protocol.md, Frame check)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connect.schemas import WireModel


class FrameCheck(WireModel):
    """``matched.frameCheck``: how this visitor samples its own outgoing camera.

    Present only for video sessions when the operator enabled sampling and a
    classifier is configured. The client sends one frame ``firstAfterMs`` after
    its media starts, then one after each random (exponential, mean
    ``meanIntervalMs``, clamped to a quarter..four times the mean) wait, scaled
    to at most ``maxWidth`` pixels wide, as a JPEG of ``jpegQuality`` (0..1).
    """

    first_after_ms: int = Field(ge=0)
    mean_interval_ms: int = Field(ge=1000)
    max_width: int = Field(ge=32)
    jpeg_quality: float = Field(gt=0, le=1)


class FrameQueued(WireModel):
    """The answer to a frame upload: false when the bounded queue was full (dropped)."""

    queued: bool


class VideoHidden(WireModel):
    """``video-hidden``: the partner's frame was classified above the action threshold.

    The client blurs the partner's video at once, tells the visitor why and
    offers Next. Sent to the partner of the visitor whose frame was flagged.
    """

    session_id: str
    reason: Literal["nudity"]


class VideoFlagged(WireModel):
    """``video-flagged``: your own frame was classified above the action threshold;
    your partner no longer sees your video in this session."""

    session_id: str
    reason: Literal["nudity"]
