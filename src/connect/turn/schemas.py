"""Shapes of the ICE configuration endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from connect.schemas import WireModel, omitted_if_none


class IceServer(WireModel):
    urls: list[str]
    username: str | None = omitted_if_none()
    credential: str | None = omitted_if_none()


class IceConfig(WireModel):
    ice_servers: list[IceServer]
    ttl: int


class TurnStatus(WireModel):
    """The probe's last result for one configured STUN/TURN URL (connect.turn.probe), as
    /health/detailed and the admin overview show it."""

    url: str
    kind: Literal["stun", "turn"]
    up: bool
    # ok | auth_failed | unreachable | rejected | error
    reason: str
    detail: str
    latency_ms: float | None
    checked_at: datetime
