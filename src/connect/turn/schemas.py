"""Shapes of the ICE configuration endpoint."""

from __future__ import annotations

from connect.schemas import WireModel


class IceServer(WireModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceConfig(WireModel):
    ice_servers: list[IceServer]
    ttl: int
