"""Bounds every REST request meets before a route sees it.

The schemas bound each field (lengths, item counts, integer ranges); what no
single field can say is checked here, once, for every route present and
future:

- **NUL characters.** PostgreSQL cannot store U+0000 in text and refuses the
  statement, so a NUL that reached a store would be a 500 on one backend and
  silently kept on the other. A NUL in the path, the query string or a JSON
  body is refused with 400 ``invalid_request`` before any route runs. The
  OpenAPI document says so: every free string carries the pattern
  :data:`NUL_FREE`.
- **Body size.** A body over the path's bound is refused with 413
  ``payload_too_large``, whether it declared its length or streamed it in
  chunks. A JSON body is read whole first (it is bounded and the route would
  parse it whole anyway), so neither refusal ever reaches a route.
- **Integers** that become database cursors are bounded by
  :data:`INT32_MAX` (those columns are INTEGER on PostgreSQL); other integers
  by the schema fields themselves.

:func:`connect.openapi_errors.document_errors` states these refusals, and
every other error status, in the OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Match

from connect.errors import ConnectError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

INT32_MAX = 2**31 - 1
"""The largest value of a PostgreSQL INTEGER column: message and audit sequence cursors."""

NUL_FREE = r"^[^\x00]*$"
"""The pattern the OpenAPI document gives every string that has no pattern of its own."""

NUL_MESSAGE = "NUL characters are not allowed"
TOO_LARGE_MESSAGE = "request body too large"


async def guard(app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Run ``app`` for one HTTP request unless the request breaks a bound.

    ``limit`` is the largest body this path accepts, in bytes.
    """
    path: str = scope.get("path", "")
    query: bytes = scope.get("query_string", b"")
    if "\x00" in path or b"\x00" in query or b"%00" in query:
        await _refuse(send, 400, "invalid_request", NUL_MESSAGE)
        return
    if isinstance(app, FastAPI):
        methods = static_resources(app).get(path)
        if methods is not None and scope.get("method") not in methods:
            await _refuse(
                send,
                405,
                "method_not_allowed",
                "Method Not Allowed",
                [(b"allow", ", ".join(m for m in METHODS if m in methods).encode())],
            )
            return
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            await _refuse(send, 413, "payload_too_large", TOO_LARGE_MESSAGE)
            return
    if parsed_as_json(scope):
        await _guard_json(app, scope, receive, send, limit)
    else:
        await _guard_stream(app, scope, receive, send, limit)


def static_resources(api: FastAPI) -> dict[str, frozenset[str]]:
    """The app's paths without parameters, and the methods each serves.

    ``PATCH /api/messages/delivered`` must be a 405 (that resource has no PATCH),
    not a 400 from ``PATCH /api/messages/{message_id}`` finding "delivered" is not
    a message id. Worked out once per app, when :class:`connect.app.ConnectApp`
    is made (all routes are in by then), from the routes themselves.
    """
    found: dict[str, frozenset[str]] | None = getattr(api.state, "static_resources", None)
    if found is None:
        methods: dict[str, set[str]] = {}
        for route in iter_route_contexts(api.routes):
            path = getattr(route, "path", "")
            if path and "{" not in path:
                methods.setdefault(path, set()).update(getattr(route, "methods", None) or ())
        found = {path: frozenset(served) for path, served in methods.items() if served}
        api.state.static_resources = found
    return found


def parsed_as_json(scope: Scope) -> bool:
    """Whether FastAPI would parse this body as JSON (it does when no type is given)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = bytes(value).split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return True


async def _guard_json(app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Read the whole (bounded) body, check it, then hand it to the route in one message."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client left before it finished sending: nobody to answer
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _refuse(send, 413, "payload_too_large", TOO_LARGE_MESSAGE)
            return
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if json_has_nul(body):
        await _refuse(send, 400, "invalid_request", NUL_MESSAGE)
        return
    await app(scope, replay(body, receive), send)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the whole ``body`` in one message, then whatever comes next."""
    replayed = False

    async def again() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


async def _guard_stream(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int
) -> None:
    """Count a streamed body (uploads); past the limit the route sees the client leave.

    The route's own answer to that (FastAPI makes a 400 of any failure to read
    the body) is replaced by the 413 the client is owed.
    """
    seen = 0
    over = False
    answered = False

    async def counting_receive() -> Message:
        nonlocal seen, over
        if over:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                over = True
                return {"type": "http.disconnect"}
        return message

    async def replacing_send(message: Message) -> None:
        nonlocal answered
        if not over:
            await send(message)
            return
        if message["type"] == "http.response.start" and not answered:
            answered = True
            await _refuse(send, 413, "payload_too_large", TOO_LARGE_MESSAGE)

    try:
        await app(scope, counting_receive, replacing_send)
    except Exception:
        if not over:
            raise
    if over and not answered:
        await _refuse(send, 413, "payload_too_large", TOO_LARGE_MESSAGE)


def nul_free(value: str, where: str) -> str:
    """``value`` unchanged, or 400 ``invalid_request`` if it holds a NUL.

    For text the guard cannot see: fields inside a multipart body (an
    upload's filename).
    """
    if "\x00" in value:
        raise ConnectError("invalid_request", f"{where}: {NUL_MESSAGE}")
    return value


def json_has_nul(body: bytes) -> bool:
    """Whether a JSON text carries U+0000: as the escape ``\\u0000`` or as a raw byte.

    An escape counts only when an odd number of backslashes precede the
    ``u`` (``\\\\u0000`` is a backslash followed by the letters ``u0000``). A
    raw zero byte is never valid in UTF-8 JSON, and it is how UTF-16 and
    UTF-32 texts (which Python's JSON parser would also accept) encode every
    ASCII character, so those are refused too: bodies are UTF-8.
    """
    if b"\x00" in body:
        return True
    at = body.find(b"u0000")
    while at != -1:
        slashes = 0
        i = at - 1
        while i >= 0 and body[i] == 0x5C:
            slashes += 1
            i -= 1
        if slashes % 2 == 1:
            return True
        at = body.find(b"u0000", at + 5)
    return False


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(api: FastAPI, scope: Scope) -> str:
    """The ``Allow`` header of a 405: the methods of the resource at this path.

    The resource is the OpenAPI path template that matches with the fewest
    parameters (``/api/admin/bans/preview`` rather than ``/api/admin/bans/{ban_id}``),
    so a path served by several routes (``GET`` and ``POST`` of one collection)
    lists all of theirs. A path the document leaves out (the docs pages) gets
    whatever the routes serve, probed through their own matching.
    """
    path: str = scope.get("path", "")
    best: tuple[int, dict[str, Any]] | None = None
    for template, item in api.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            params = template.count("{")
            if best is None or params < best[0]:
                best = (params, item)
    if best is not None:
        return ", ".join(method for method in METHODS if method.lower() in best[1])
    allowed = [
        method
        for method in METHODS
        if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in api.routes)
    ]
    return ", ".join(allowed)


async def _refuse(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send_json(send, status, {"error": {"code": code, "message": message}}, headers)


async def send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer an ASGI request with a JSON body, below the framework (middleware refusals)."""
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
