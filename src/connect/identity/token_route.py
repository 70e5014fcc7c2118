"""``POST /api/auth/token`` (a guest token) served before FastAPI.

Every stranger visit starts with this request, and in the churn benchmark
(open, join, chat, next, leave, come back with a new token) it was the most
expensive thing a visit did: about 2 million instructions per request
(callgrind, server side), of which FastAPI's routing, dependency resolution,
body validation and response rendering were about 60% (py-spy).

Here the body is validated with the same model, :func:`issue_guest_token`
does what the FastAPI route does, and errors are answered by the same
functions as the API's exception handlers (:mod:`connect.http_errors`); only
the per-request plumbing is skipped. The bounds (:func:`connect.bounds.guard`),
request ids, metrics, logs and security headers around it are unchanged. A
body the model refuses goes on to FastAPI, so that answer is the one every
other route gives. The route stays declared in FastAPI for the OpenAPI
document.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from connect import bounds, http_errors
from connect.identity.schemas import GuestTokenReply, GuestTokenRequest
from connect.identity.service import scope_client_ip
from connect.services import Services

PATH = "/api/auth/token"


async def issue_guest_token(
    svc: Services, device_id: str, ip_hash: str, ip: str
) -> GuestTokenReply:
    """A guest token for ``device_id``: rate-limited per address, refused while banned."""
    await svc.limiter.hit(svc.rules.token, ip_hash)
    await svc.bans.refuse_if_banned(device_id=device_id, ip_hash=ip_hash, ip=ip)
    await svc.abuse.token_issued(ip_hash, device_id)
    token = svc.tokens.issue_guest(device_id, ip_hash)
    return GuestTokenReply(token=token, expires_in=svc.tokens.guest_ttl_s)


class GuestTokenRoute:
    """The ASGI app for ``POST`` :data:`PATH` with a JSON body (see the module's docstring).

    It runs behind :func:`connect.bounds.guard`, which hands a JSON body over
    whole, in one message.
    """

    def __init__(self, api: FastAPI, services: Services) -> None:
        self._api = api
        self._services = services
        # What FastAPI would put in the scope: observe_http labels metrics with its path.
        self._route = next(
            r
            for r in iter_route_contexts(api.routes)
            if getattr(r, "path", None) == PATH and "POST" in (getattr(r, "methods", None) or ())
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        body: bytes = message.get("body", b"")
        try:
            request = GuestTokenRequest.model_validate_json(body)
        except ValidationError:
            await self._api(scope, bounds.replay(body, receive), send)
            return
        scope["route"] = self._route
        svc = self._services
        ip = scope_client_ip(scope, svc.settings.trusted_proxies)
        ip_hash = scope.get("state", {}).get("ip_hash") or svc.ip_hasher.hash(ip)
        response: Response
        try:
            reply = await issue_guest_token(svc, request.device_id, ip_hash, ip)
            response = Response(orjson.dumps(reply.wire()), media_type="application/json")
        except Exception as exc:
            response = http_errors.failure(svc, f"POST {PATH}", exc)
        await response(scope, receive, send)
