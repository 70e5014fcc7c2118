"""Shapes of the ICE configuration endpoint."""

from __future__ import annotations

from connect.schemas import WireModel, omitted_if_none


class IceServer(WireModel):
    urls: list[str]
    username: str | None = omitted_if_none()
    credential: str | None = omitted_if_none()


class IceConfig(WireModel):
    ice_servers: list[IceServer]
    ttl: int
