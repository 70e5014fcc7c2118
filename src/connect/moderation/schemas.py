"""Shapes of the reporting endpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connect.schemas import WireModel

ReportReason = Literal["nudity", "harassment", "spam", "underage", "violence", "other"]


class ReportIn(WireModel):
    session_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    reason: ReportReason
    comment: str | None = Field(default=None, max_length=1000)


class ReportCreated(WireModel):
    id: str
    status: Literal["pending"]
