"""Shapes of presence: the privacy setting, the REST list and the ``presence`` push."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from connect.schemas import WireModel

Visibility = Literal["contacts", "nobody"]


class VisibilityIn(WireModel):
    visibility: Visibility


class VisibilityOut(WireModel):
    visibility: Visibility


class PresenceOut(WireModel):
    """One person's presence; also the payload of the ``presence`` push."""

    user_id: str
    online: bool
    last_seen_at: datetime | None


class PresenceList(WireModel):
    presence: list[PresenceOut]
