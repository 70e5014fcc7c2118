"""The protocol table is the one source of event schemas."""

from __future__ import annotations

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
