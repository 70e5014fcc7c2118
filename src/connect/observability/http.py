"""Per-request observability: a request id on every log line, metrics, optional trace span.

The request id comes from an incoming ``X-Request-ID`` (when it looks like
one) or is generated, is bound into structlog's context variables for the
duration of the request (so every log line of the request carries it) and
is echoed in the response. Routes are labelled by their template
(``/api/calls/{call_id}``), never by the concrete path, so label values stay
bounded; the client address is logged only as its salted hash.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import structlog

from connect import ids
from connect.identity.service import IpHasher, scope_client_ip
from connect.observability import tracing
from connect.observability.metrics import Metrics

log = structlog.get_logger("connect.http")
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _header(scope: MutableMapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def route_of(scope: MutableMapping[str, Any]) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


async def observe_http(
    metrics: Metrics,
    hasher: IpHasher,
    trusted: Sequence[str],
    scope: MutableMapping[str, Any],
    send: Send,
    call: Callable[[Send], Awaitable[None]],
) -> None:
    # Hashed once per request: the log line and the routes (deps.ip_hash) share it.
    ip_hash = hasher.hash(scope_client_ip(scope, trusted))
    scope.setdefault("state", {})["ip_hash"] = ip_hash
    incoming = _header(scope, b"x-request-id")
    request_id = incoming if incoming and _REQUEST_ID.match(incoming) else ids.token_hex(8)
    status = 500
    started = time.perf_counter()

    async def send_with_id(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            message["headers"] = [
                *message.get("headers", []),
                (b"x-request-id", request_id.encode()),
            ]
        await send(message)

    tracer = tracing.tracer()
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            if tracer is None:
                await call(send_with_id)
            else:
                with tracer.start_as_current_span(f"{scope['method']} {scope['path']}") as span:
                    span.set_attribute("http.request_id", request_id)
                    await call(send_with_id)
                    span.set_attribute("http.status_code", status)
        finally:
            elapsed = time.perf_counter() - started
            route = route_of(scope)
            metrics.http_requests.labels(route, str(status)).inc()
            metrics.http_latency.labels(route).observe(elapsed)
            log.info(
                "http_request",
                method=scope["method"],
                route=route,
                status=status,
                ms=round(elapsed * 1000, 2),
                ip_hash=ip_hash,
            )
