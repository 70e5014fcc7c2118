"""The errors the API states in its OpenAPI document.

:func:`document_errors` writes the real error statuses into the document (400,
401, 403, 404, 409, 413, 415, 429, 503, all with the contract's error shape) in
place of FastAPI's 422, which this API never sends, and gives every free-text
string the :data:`connect.bounds.NUL_FREE` pattern the bounds enforce.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from connect.bounds import NUL_FREE

ERROR_REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ErrorReply",
    "description": "The contract's error shape (docs/protocol.md, Errors).",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "description": "English; a fallback"},
                "reason": {
                    "type": "string",
                    "description": "(ext) why, as a stable code, when `code` is generic",
                },
                "params": {
                    "type": "object",
                    "description": "(ext) the reason's parameters (strings and integers)",
                    "additionalProperties": {"type": ["string", "integer"]},
                },
            },
        },
        "retryAfterMs": {"type": "integer", "minimum": 0},
    },
}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "seconds to wait (retryAfterMs rounded up)",
        "schema": {"type": "integer"},
    }
}
API_ERRORS: dict[str, str] = {
    "400": "invalid_request: malformed or out-of-bounds input (NUL characters included), "
    "or another refusal the error code names",
    "401": "unauthorized: no valid token, or wrong credentials",
    "403": "forbidden: this kind of token or role may not, or the subject is banned",
    "404": "not_found",
    "409": "conflict: the state does not allow it (e.g. already exists)",
    "413": "payload_too_large: the body (declared or streamed) is over this path's bound",
    "429": "rate_limited: retry after retryAfterMs",
    "503": "unavailable or overloaded: a dependency is down or busy, retry after retryAfterMs",
}
UPLOAD_ERRORS = {"415": "unsupported_type: the file's content is not an allowed type"}
HEALTH_ERRORS = {"503": "not ready, or a dependency is down"}
VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def document_errors(api: FastAPI) -> None:
    """Make ``api``'s OpenAPI document state the errors the service really answers.

    Applied once, when the document is first built, so routes added by any
    feature are covered without declaring anything themselves.
    """
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = describe_errors(build())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def describe_errors(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    for model in schemas.values():
        _nul_free(model)
    schemas["ErrorReply"] = ERROR_REPLY_SCHEMA
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", ()):
                _nul_free(parameter.get("schema", {}))
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                _nul_free(media.get("schema", {}))
            responses: dict[str, Any] = operation["responses"]
            responses.pop("422", None)
            errors = dict(API_ERRORS) if path.startswith("/api") else dict(HEALTH_ERRORS)
            if "multipart/form-data" in body:
                errors.update(UPLOAD_ERRORS)
            for status, description in errors.items():
                responses.setdefault(status, _error_response(status, description))
    return schema


def _error_response(status: str, description: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorReply"}}},
    }
    if status in ("429", "503"):
        out["headers"] = RETRY_AFTER_HEADER
    return out


def _nul_free(node: Any) -> None:
    """Give every free-text string schema under ``node`` the :data:`NUL_FREE` pattern.

    Strings with a pattern, a format (binary uploads, dates), an enum or a
    const already say what they accept.
    """
    if isinstance(node, list):
        for item in node:
            _nul_free(item)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    is_string = kind == "string" or (isinstance(kind, list) and "string" in kind)
    if is_string and not {"pattern", "format", "enum", "const", "contentMediaType"} & node.keys():
        node["pattern"] = NUL_FREE
    for key in ("properties", "patternProperties", "$defs"):
        sub = node.get(key)
        if isinstance(sub, dict):
            for value in sub.values():
                _nul_free(value)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "prefixItems"):
        if key in node:
            _nul_free(node[key])
