"""The frame format of PROTOCOL.md, parsed and written in one place.

Client frames are ``{"event", "data"?, "id"?}``; anything else is refused
with a :class:`FrameError` whose code the endpoint reports in the contract's
error shape. Server frames are encoded once with orjson and the resulting
text is what goes into every recipient's send queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from connect.bounds import json_has_nul

MAX_EVENT_NAME = 64
MAX_ACK_ID = 2**53


class FrameError(Exception):
    def __init__(self, code: str, message: str, frame_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.frame_id = frame_id


FRAME_KEYS = frozenset({"event", "data", "id"})


class Frame:
    """A decoded client frame (a plain slotted class: one is built per frame received)."""

    __slots__ = ("data", "event", "id")

    def __init__(self, event: str, data: dict[str, Any], frame_id: int | None) -> None:
        self.event = event
        self.data = data
        self.id = frame_id


def decode(raw: str) -> Frame:
    # U+0000 can only arrive escaped; the precise check runs only on a likely hit. The
    # NUL would otherwise reach peers' screens and, on PostgreSQL, text columns.
    if "u0000" in raw and json_has_nul(raw.encode()):
        raise FrameError("invalid_frame", "frames may not carry NUL characters")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FrameError("invalid_json", "frame is not valid JSON") from exc
    if type(obj) is not dict:
        raise FrameError("invalid_frame", "frame must be a JSON object")
    frame_id = obj.get("id")
    if frame_id is not None and (type(frame_id) is not int or not 0 <= frame_id < MAX_ACK_ID):
        raise FrameError("invalid_frame", "id must be a non-negative integer")
    if not FRAME_KEYS.issuperset(obj):
        extra = sorted(obj.keys() - FRAME_KEYS)[0]
        raise FrameError("invalid_frame", f"unknown frame field {extra!r}", frame_id)
    event = obj.get("event")
    if type(event) is not str or not 0 < len(event) <= MAX_EVENT_NAME:
        raise FrameError("invalid_frame", "event must be a short string", frame_id)
    data = obj.get("data")
    if data is None:
        data = {}
    elif type(data) is not dict:
        raise FrameError("invalid_frame", "data must be a JSON object", frame_id)
    return Frame(event, data, frame_id)


def event(name: str, data: Mapping[str, Any]) -> str:
    return orjson.dumps({"event": name, "data": data}).decode()


def ack(frame_id: int, extra: Mapping[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"ack": frame_id, "ok": True}
    if extra:
        body.update(extra)
    return orjson.dumps(body).decode()


def nack(frame_id: int, error: Mapping[str, Any]) -> str:
    """A refusal ack; ``error`` is a ConnectError body (``error`` and maybe ``retryAfterMs``)."""
    return orjson.dumps({"ack": frame_id, "ok": False, **error}).decode()
