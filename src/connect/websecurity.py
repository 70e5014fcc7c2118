"""Browser-facing security for every HTTP response: headers, CORS, operator endpoints.

Every page and every API answer (errors, 404s and the body-size 413 included)
leaves through :meth:`WebSecurity.serve`, which adds:

* a Content-Security-Policy. Pages (the visitor app at ``/``, the dashboard at
  ``/admin``) get :data:`PAGE_CSP`: scripts, styles and fonts only from this
  origin, no inline script or style element, nothing third-party; ``blob:``
  and ``data:`` images (attachments and avatars are fetched with the bearer
  token and shown as blob URLs; report evidence is a data URL), ``blob:``
  media; ``connect-src 'self'`` (CSP Level 3 lets ``'self'`` match the
  same-origin ``ws:``/``wss:`` of the gateway; TURN/STUN are not governed by
  CSP). API answers get :data:`API_CSP`, which allows nothing at all: a JSON
  body or an attachment opened directly in a tab can run nothing.
* ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (nothing, the admin
  dashboard least of all, can be framed for clickjacking), ``nosniff``,
  ``Referrer-Policy: no-referrer`` (no path of ours, which may hold a channel
  or attachment id, leaks to another site), a ``Permissions-Policy`` giving
  camera and microphone to this origin only, and HSTS when ``env=prod``.

CORS is closed unless ``CONNECT_CORS_ORIGINS`` names origins: those get the
``Access-Control-Allow-*`` headers and their preflights are answered here;
a preflight from any other origin gets a 403. The API authenticates with a
bearer token, never a cookie, so no credentials mode is offered.

Operator endpoints (metrics, detailed health, API docs and schema) answer
only clients inside ``CONNECT_OPERATOR_CIDRS``, judged on the same client
address as rate limits and IP bans (``X-Forwarded-For`` is believed only from
``CONNECT_TRUSTED_PROXIES``). Anyone else gets the API's usual 404, so the
endpoints' existence is not advertised.

The Swagger UI is not bundled (its assets would come from a CDN and its page
runs an inline script): in ``prod`` there is no ``/api/docs``; in ``dev`` a
page of ours loads the CDN bundle and a local init script, under a policy
that allows that CDN on that one page only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from connect.bounds import send_json
from connect.identity.service import parse_address, scope_client_ip
from connect.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
HttpApp = Callable[[Scope, Receive, Send], Awaitable[None]]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
API_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
SWAGGER_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        f"script-src 'self' {SWAGGER_CDN}",
        f"style-src {SWAGGER_CDN}",
        f"img-src 'self' data: {SWAGGER_CDN}",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()"
)
DOCS_PATH = "/api/docs"
DOCS_INIT_PATH = "/api/docs/init.js"
OPENAPI_PATH = "/api/openapi.json"
OPERATOR_PATHS = frozenset(
    {"/metrics", "/health/detailed", DOCS_PATH, DOCS_INIT_PATH, OPENAPI_PATH}
)
API_PREFIXES = ("/api/", "/health", "/metrics")
_FORWARDING = (b"x-forwarded-for", b"forwarded", b"x-real-ip")
CORS_METHODS = b"GET, POST, PUT, PATCH, DELETE"
CORS_HEADERS = b"authorization, content-type, x-request-id"
CORS_EXPOSE = b"x-request-id, retry-after"
CORS_MAX_AGE = b"600"
# Headers this module owns: a route's own value (e.g. nosniff on downloads) is replaced,
# never doubled.
_OWNED = frozenset(
    {
        b"content-security-policy",
        b"x-frame-options",
        b"x-content-type-options",
        b"referrer-policy",
        b"permissions-policy",
        b"strict-transport-security",
        b"cross-origin-opener-policy",
        b"cross-origin-resource-policy",
    }
)


class WebSecurity:
    """The security headers, CORS allow-list and operator gate of one node."""

    def __init__(self, settings: Settings) -> None:
        self._trusted = settings.trusted_proxies
        self._trusted_nets = [ipaddress.ip_network(c, strict=False) for c in self._trusted]
        self._operators = [ipaddress.ip_network(c, strict=False) for c in settings.operator_cidrs]
        self._origins = frozenset(settings.cors_origins)
        self._docs = settings.env != "prod"
        common: list[tuple[bytes, bytes]] = [
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"permissions-policy", PERMISSIONS_POLICY.encode()),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if settings.env == "prod" and settings.hsts_max_age_s > 0:
            common.append(
                (b"strict-transport-security", f"max-age={settings.hsts_max_age_s}".encode())
            )
        self._page = [(b"content-security-policy", PAGE_CSP.encode()), *common]
        self._api = [(b"content-security-policy", API_CSP.encode()), *common]
        self._docs_page = [(b"content-security-policy", DOCS_CSP.encode()), *common]

    def headers_for(self, path: str) -> Sequence[tuple[bytes, bytes]]:
        if path == DOCS_PATH and self._docs:
            return self._docs_page
        if path.startswith(API_PREFIXES) or path == "/api":
            return self._api
        return self._page

    def operator_allowed(self, scope: Scope) -> bool:
        """Whether the request's client is inside ``CONNECT_OPERATOR_CIDRS``.

        A request forwarded by a peer that is not a trusted proxy is refused
        whatever the peer's address: it is a proxy nobody declared (e.g. an
        ingress left out of ``CONNECT_TRUSTED_PROXIES``), whose private
        address would otherwise stand in for every visitor on the internet.
        Prometheus and an operator's curl reach a node directly, unforwarded.
        """
        peer = scope.get("client")
        if peer is None:
            return False
        if any(_header(scope, name) is not None for name in _FORWARDING) and not _within(
            peer[0], self._trusted_nets
        ):
            return False
        return _within(scope_client_ip(scope, self._trusted), self._operators)

    async def serve(self, scope: Scope, receive: Receive, send: Send, app: HttpApp) -> None:
        """Answer one HTTP request through ``app``, with the headers, CORS and the gate."""
        path: str = scope["path"]
        added = list(self.headers_for(path))
        origin = _header(scope, b"origin")
        allowed_origin = origin is not None and origin.lower() in self._origins
        if self._origins:
            added.append((b"vary", b"Origin"))
        if allowed_origin:
            assert origin is not None
            added += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-expose-headers", CORS_EXPOSE),
            ]

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in _OWNED]
                message["headers"] = kept + added
            await send(message)

        if (
            scope["method"] == "OPTIONS"
            and origin is not None
            and _header(scope, b"access-control-request-method") is not None
        ):
            await self._preflight(secured, allowed_origin)
            return
        if path.rstrip("/") in OPERATOR_PATHS and not self.operator_allowed(scope):
            await send_json(secured, 404, {"error": {"code": "not_found", "message": "Not Found"}})
            return
        await app(scope, receive, secured)

    @staticmethod
    async def _preflight(send: Send, allowed: bool) -> None:
        if not allowed:
            await send_json(
                send,
                403,
                {"error": {"code": "cors_refused", "message": "this origin may not call the API"}},
            )
            return
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"access-control-allow-methods", CORS_METHODS),
                    (b"access-control-allow-headers", CORS_HEADERS),
                    (b"access-control-max-age", CORS_MAX_AGE),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def install_docs(api: FastAPI, settings: Settings) -> None:
    """The Swagger UI at ``/api/docs`` in dev only, with no inline script (see module doc)."""
    if settings.env == "prod":
        return

    @api.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_HTML)

    @api.get(DOCS_INIT_PATH, include_in_schema=False)
    async def docs_init() -> Response:
        return Response(_DOCS_INIT, media_type="text/javascript")


_DOCS_HTML = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Connect API</title>
<link rel="stylesheet" href="{SWAGGER_CDN}/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER_CDN}/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script src="{DOCS_INIT_PATH}"></script>
</body>
</html>
"""
_DOCS_INIT = f"""SwaggerUIBundle({{
  url: "{OPENAPI_PATH}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
}});
"""


def _within(ip: str, networks: Sequence[IpNetwork]) -> bool:
    addr = parse_address(ip)
    return addr is not None and any(addr in net for net in networks)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None
