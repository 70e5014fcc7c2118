"""The shared bounds in-process: the NUL detector and the OpenAPI document's errors."""

from __future__ import annotations

import json

import pytest

from connect.app import create_app
from connect.bounds import NUL_FREE, json_has_nul


@pytest.mark.parametrize(
    ("text", "nul"),
    [
        ('{"a": "x\\u0000y"}', True),
        ('{"a": "\\\\\\u0000"}', True),  # an escaped backslash, then an escaped NUL
        ('{"a": "\\\\u0000"}', False),  # a backslash, then the letters u0000
        ('{"a": "\\\\\\\\u0000"}', False),
        ('{"a": "u0000"}', False),
        ('{"a": "\\u00000"}', True),
        ('{"a": "\\u0001"}', False),
        ('{"u0000": 1}', False),
    ],
)
def test_escaped_nul_is_told_from_text_that_looks_like_it(text: str, nul: bool) -> None:
    assert json_has_nul(text.encode()) is nul
    # What the parser makes of it agrees.
    parsed = json.loads(text)
    assert any("\x00" in key + str(value) for key, value in parsed.items()) is nul


def test_raw_zero_bytes_and_utf16_are_refused() -> None:
    assert json_has_nul(b'{"a": "\x00"}')
    assert json_has_nul('{"a": "b"}'.encode("utf-16"))
    assert not json_has_nul('{"a": "é ✓ 😀"}'.encode())


def test_the_document_states_the_errors_for_every_route() -> None:
    doc = create_app().api.openapi()
    api_operations = [
        (path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/api/")
        for op in item.values()
    ]
    assert len(api_operations) > 40
    for path, op in api_operations:
        responses = op["responses"]
        assert "422" not in responses, path
        for status in ("400", "401", "403", "404", "409", "413", "429", "503"):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorReply"}, (path, status)
        if "multipart/form-data" in op.get("requestBody", {}).get("content", {}):
            assert "415" in responses, path
    assert doc["components"]["schemas"]["SignupIn"]["properties"]["displayName"]["pattern"] == (
        NUL_FREE
    )
