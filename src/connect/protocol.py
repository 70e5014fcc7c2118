"""The wire contract as data: every gateway event and its payload schema.

This table is the one source the rest is derived from: the router refuses to
register a handler whose schema differs from it (see the tests),
``connect protocol --json-schema`` feeds the TypeScript types of the web
app, ``connect protocol --markdown`` writes docs/protocol.md, and the
integration tests validate every frame the server sends against it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from connect.calls.schemas import CallAccepted, CallEnded, CallMissed, CallRejected, IncomingCall
from connect.contacts.schemas import (
    ChannelMessage,
    ChannelOut,
    ChannelTyping,
    ChannelTypingOut,
    MessageDeleted,
    MessageReactionOut,
    MessageReceipt,
    MessagesDelivered,
)
from connect.framecheck.schemas import VideoFlagged, VideoHidden
from connect.gateway.schemas import (
    Empty,
    ErrorDetail,
    ErrorEvent,
    Hello,
    Nack,
    RateLimited,
    Welcome,
)
from connect.matching.schemas import Empty as QueueEmpty
from connect.matching.schemas import (
    JoinQueue,
    Matched,
    MatchTimeout,
    Next,
    PeerEnded,
    PeerReconnected,
    PeerReconnecting,
    Queued,
    QueueStatus,
    QueueStatusRequest,
)
from connect.moderation.schemas import Banned, CaptchaRequiredEvent, CaptchaSolution, Warning
from connect.presence.schemas import PresenceOut
from connect.signaling.schemas import (
    CallStats,
    ChatMessage,
    EndCall,
    MediaState,
    MediaStateRelay,
    ReactionRelay,
    RelayedAnswer,
    RelayedCandidate,
    RelayedOffer,
    SendAnswer,
    SendCandidate,
    SendMessage,
    SendOffer,
    SendReaction,
    Typing,
    TypingRelay,
)

CLIENT_EVENTS: dict[str, type[BaseModel]] = {
    "hello": Hello,
    "ping": Empty,
    "join-queue": JoinQueue,
    "leave-queue": QueueEmpty,
    "next": Next,
    "send-offer": SendOffer,
    "send-answer": SendAnswer,
    "send-candidate": SendCandidate,
    "send-message": SendMessage,
    "typing": Typing,
    "end-call": EndCall,
    "call-stats": CallStats,
    "captcha-solution": CaptchaSolution,
    "channel-typing": ChannelTyping,
    "queue-status": QueueStatusRequest,
    "media-state": MediaState,
    "send-reaction": SendReaction,
    "messages-delivered": MessagesDelivered,
}

SERVER_EVENTS: dict[str, type[BaseModel]] = {
    "welcome": Welcome,
    "pong": Empty,
    "error": ErrorEvent,
    "rate-limited": RateLimited,
    "queued": Queued,
    "matched": Matched,
    "offer": RelayedOffer,
    "answer": RelayedAnswer,
    "candidate": RelayedCandidate,
    "message": ChatMessage,
    "typing": TypingRelay,
    "peer-ended": PeerEnded,
    "peer-reconnecting": PeerReconnecting,
    "peer-reconnected": PeerReconnected,
    "banned": Banned,
    "captcha-required": CaptchaRequiredEvent,
    "warning": Warning,
    "channel-message": ChannelMessage,
    "channel-typing": ChannelTypingOut,
    "message-reaction": MessageReactionOut,
    "incoming-call": IncomingCall,
    "call-accepted": CallAccepted,
    "call-rejected": CallRejected,
    "call-ended": CallEnded,
    "call-missed": CallMissed,
    "queue-status": QueueStatus,
    "match-timeout": MatchTimeout,
    "media-state": MediaStateRelay,
    "reaction": ReactionRelay,
    "presence": PresenceOut,
    "message-receipt": MessageReceipt,
    "message-edited": ChannelMessage,
    "message-deleted": MessageDeleted,
    "channel-created": ChannelOut,
    "video-hidden": VideoHidden,
    "video-flagged": VideoFlagged,
}

NACK: type[BaseModel] = Nack
"""The ack of a refused request frame; an accepted one is ``{"ack", "ok": true, ...}``."""


def json_schema() -> dict[str, Any]:
    """One JSON Schema document with a definition per event payload."""
    defs: dict[str, Any] = {}
    client: dict[str, str] = {}
    server: dict[str, str] = {}

    def add(name: str, model: type[BaseModel]) -> None:
        schema = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        for def_name, def_schema in {**schema.pop("$defs", {}), name: schema}.items():
            if def_name in defs and defs[def_name] != def_schema:
                raise ValueError(f"two different schemas are both named {def_name!r}")
            defs[def_name] = def_schema
        schema["title"] = name

    for table, out, suffix in ((CLIENT_EVENTS, client, "In"), (SERVER_EVENTS, server, "Out")):
        for event, model in table.items():
            name = "".join(part.title() for part in event.split("-")) + suffix
            add(name, model)
            out[event] = name
    add("Nack", NACK)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ConnectProtocol",
        "x-client-events": client,
        "x-server-events": server,
        "x-nack": "Nack",
        "$defs": defs,
    }


def markdown() -> str:
    lines = [
        "# Gateway events (generated)",
        "",
        "Generated by `connect protocol --markdown` from the pydantic schemas in the",
        'code; do not edit by hand. Frames are `{"event", "data", "id"?}` (client)',
        'and `{"event", "data"}` / `{"ack", "ok", ...}` (server); see docs/protocol.md.',
        "",
    ]
    for title, table in (("Client → server", CLIENT_EVENTS), ("Server → client", SERVER_EVENTS)):
        lines += [
            f"## {title}",
            "",
            "| event | field | type | required | notes |",
            "| --- | --- | --- | --- | --- |",
        ]
        for event, model in table.items():
            lines += _rows(event, model)
        lines.append("")
    lines += [
        "## Refused request (nack)",
        "",
        "A request frame (one with an `id`) that is refused is answered by this ack instead",
        'of `{"ack", "ok": true, ...}`; a refused frame without an `id` gets the `error`',
        "event above. `error` is:",
        "",
        "| shape | field | type | required | notes |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += _rows("error", ErrorDetail)
    lines += ["", "and the ack:", "", "| shape | field | type | required | notes |"]
    lines += ["| --- | --- | --- | --- | --- |", *_rows("nack", NACK), ""]
    return "\n".join(lines)


def _rows(event: str, model: type[BaseModel]) -> list[str]:
    """One markdown table row per field of ``model``, the first naming ``event``."""
    schema = model.model_json_schema(by_alias=True)
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    if not props:
        return [f"| `{event}` | — | — | — | empty object |"]
    return [
        f"| {'`' + event + '`' if i == 0 else ''} | `{field}` | {_type(spec)} | "
        f"{'yes' if field in required else 'no'} | {_notes(spec)} |"
        for i, (field, spec) in enumerate(props.items())
    ]


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return str(spec["$ref"]).rsplit("/", 1)[-1]
    if "enum" in spec:
        return " \\| ".join(json.dumps(v) for v in spec["enum"])
    if "const" in spec:
        return json.dumps(spec["const"])
    if "anyOf" in spec:
        return " \\| ".join(_type(s) for s in spec["anyOf"])
    if spec.get("type") == "array":
        return f"{_type(spec.get('items', {}))}[]"
    return str(spec.get("type", "any"))


def _notes(spec: dict[str, Any]) -> str:
    notes = []
    for key in ("maxLength", "minLength", "pattern", "maxItems", "minimum", "maximum"):
        if key in spec:
            notes.append(f"{key} {spec[key]}")
    for sub in spec.get("anyOf", []):
        for key in ("maxLength", "pattern"):
            if key in sub:
                notes.append(f"{key} {sub[key]}")
    if "description" in spec:
        notes.append(spec["description"])
    return "; ".join(notes).replace("|", "\\|")
