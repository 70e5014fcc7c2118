"""Domain events: what happened, for analytics and audit export.

They never carry message text, raw IP addresses or tokens; subjects appear
as the pseudonymous ids the service already uses (device ids, account ids).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from connect.schemas import WireModel

EventType = Literal[
    "session.started",
    "session.ended",
    "report.filed",
    "ban.issued",
    "ban.lifted",
    "call.outcome",
    "message.sent",
]


class DomainEvent(WireModel):
    id: str
    type: EventType
    at: datetime
    node: str
    data: dict[str, Any] = Field(default_factory=dict)
