"""The protocol table is the one source of event schemas."""

from __future__ import annotations

import pytest

from connect.app import create_app
from connect.protocol import CLIENT_EVENTS, SERVER_EVENTS, json_schema, markdown
from connect.settings import Settings


def test_router_handlers_use_the_protocol_schemas(tmp_path: object) -> None:
    app = create_app(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    registered = app.services.router.events()
    built_in = {"hello", "ping"}
    assert set(registered) == set(CLIENT_EVENTS) - built_in
    for event, model in registered.items():
        assert CLIENT_EVENTS[event] is model, event


def test_json_schema_names_every_event() -> None:
    doc = json_schema()
    assert set(doc["x-client-events"]) == set(CLIENT_EVENTS)
    assert set(doc["x-server-events"]) == set(SERVER_EVENTS)
    for name in [*doc["x-client-events"].values(), *doc["x-server-events"].values()]:
        assert name in doc["$defs"]
    matched = doc["$defs"]["MatchedOut"]
    assert set(matched["required"]) >= {
        "sessionId",
        "peerId",
        "initiator",
        "mode",
        "commonInterests",
        "iceServers",
    }


def test_generated_docs_are_current() -> None:
    from pathlib import Path

    committed = Path(__file__).parents[2] / "docs" / "protocol-events.md"
    assert committed.read_text() == markdown() + "\n", "run: make protocol"


def test_gateway_error_shapes_describe_reason_params_and_retry() -> None:
    """A refusal as the gateway sends it (the ack's error, or the `error` event's data:
    the error object with retryAfterMs beside it) matches the protocol's schemas, and a
    field they do not describe is refused, so the contract check can fail."""
    from pydantic import ValidationError

    from connect.errors import ConnectError
    from connect.gateway.schemas import ErrorEvent, Nack

    exc = ConnectError(
        "not_found", "no such channel", reason="channel_not_found", params={"n": 1, "s": "x"}
    )
    limited = ConnectError("rate_limited", "too many", retry_after_ms=1500)
    for e in (exc, limited):
        body = e.body()
        Nack.model_validate({"ack": 7, "ok": False, **body})
        event = dict(body["error"])
        if e.retry_after_ms is not None:
            event["retryAfterMs"] = e.retry_after_ms
        ErrorEvent.model_validate(event)
    doc = json_schema()
    assert doc["x-nack"] == "Nack"
    assert "Nack" in doc["$defs"]
    assert {"reason", "params", "retryAfterMs"} <= doc["$defs"]["ErrorOut"]["properties"].keys()
    with pytest.raises(ValidationError):
        ErrorEvent.model_validate({"code": "x", "message": "y", "why": "z"})
    with pytest.raises(ValidationError):
        Nack.model_validate({"ack": 1, "ok": False, "error": {"code": "x", "message": "y"}, "z": 1})
    with pytest.raises(ValidationError):
        ErrorEvent.model_validate({"code": "x", "message": "y", "params": {"a": [1]}})
