"""Handshake shapes of the gateway."""

from __future__ import annotations

from pydantic import Field

from connect.schemas import WireModel, omitted_if_none


class Hello(WireModel):
    token: str = Field(min_length=1, max_length=4096)
    resume: str | None = Field(default=None, min_length=1, max_length=128)


class Welcome(WireModel):
    connection_id: str
    resume_token: str
    heartbeat_ms: int
    resumed: bool


class RateLimited(WireModel):
    event: str
    retry_after_ms: int


class ErrorEvent(WireModel):
    """Sent for a refused frame that carried no ``id`` (with an id, the ack carries the error)."""

    code: str
    message: str
    retry_after_ms: int | None = omitted_if_none()


class Empty(WireModel):
    pass
