"""Handshake shapes of the gateway."""

from __future__ import annotations

from typing import Literal

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


_REASON = "(ext) why, as a stable snake_case code, when `code` alone does not say it"
_PARAMS = "(ext) the reason's parameters (strings and integers; `{}` when none), sent with `reason`"
_RETRY = "wait this long before the same request (`rate_limited`, `unavailable`, `overloaded`)"


class ErrorEvent(WireModel):
    """Sent for a refused frame that carried no ``id`` (with an id, the ack carries the error):
    the fields of a nack's ``error`` object, with ``retryAfterMs`` beside them."""

    code: str
    message: str = Field(description="English, for logs and as a fallback")
    reason: str | None = omitted_if_none(description=_REASON)
    params: dict[str, str | int] | None = omitted_if_none(description=_PARAMS)
    retry_after_ms: int | None = omitted_if_none(ge=0, description=_RETRY)


class ErrorDetail(WireModel):
    """A refusal's ``error`` object in a nack (and in REST error replies)."""

    code: str
    message: str = Field(description="English, for logs and as a fallback")
    reason: str | None = omitted_if_none(description=_REASON)
    params: dict[str, str | int] | None = omitted_if_none(description=_PARAMS)


class Nack(WireModel):
    """The ack of a refused request frame (one that carried an ``id``):
    ``{"ack": id, "ok": false, "error": {...}, "retryAfterMs"?}``."""

    ack: int
    ok: Literal[False]
    error: ErrorDetail
    retry_after_ms: int | None = omitted_if_none(ge=0, description=_RETRY)


class Empty(WireModel):
    pass
