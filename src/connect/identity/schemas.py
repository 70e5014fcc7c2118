"""Shapes of the identity endpoints."""

from __future__ import annotations

from pydantic import Field

from connect.schemas import WireModel

DEVICE_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class GuestTokenRequest(WireModel):
    device_id: str = Field(pattern=DEVICE_ID_PATTERN)


class GuestTokenReply(WireModel):
    token: str
    expires_in: int
