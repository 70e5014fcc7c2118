"""The ASGI application: REST routes, the /ws gateway and the built web app.

With the default WebSocket engine, uvicorn hands ``/ws`` upgrades to
picows (:mod:`connect.gateway.websocket`) and this app never sees them; with
``CONNECT_WS_ENGINE=asgi`` they arrive here and go to the gateway's ASGI
adapter before FastAPI sees them. Everything else goes through FastAPI.
Background jobs (queue widening sweep, session record pruning, the WebSocket
heartbeat) live and die with the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.applications import Starlette
from starlette.routing import Mount

from connect import bounds, compiled, http_errors, openapi_errors
from connect.calls.api import router as calls_router
from connect.clock import Clock, SystemClock
from connect.contacts.api import router as contacts_router
from connect.errors import faults
from connect.framecheck.api import router as framecheck_router
from connect.gateway import asgi
from connect.identity import token_route
from connect.identity.api import router as identity_router
from connect.identity.api import users as users_router
from connect.moderation.admin_api import router as admin_router
from connect.moderation.api import router as moderation_router
from connect.observability import tracing
from connect.observability.api import refresh_gauges
from connect.observability.api import router as health_router
from connect.observability.http import observe_http
from connect.presence.api import router as presence_router
from connect.services import Services, build_services
from connect.settings import Settings
from connect.turn.api import router as turn_router
from connect.websecurity import WebSecurity, install_docs

log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
MAX_BODY_BYTES = 64 * 1024
# Reports may carry one JPEG frame as evidence (base64, bounded again by the schema).
LARGE_BODY_PATHS = {
    "/api/reports": 1024 * 1024,
    "/api/auth/avatar": 2 * 1024 * 1024,
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> ConnectApp:
    settings = settings or Settings()
    clock = clock or SystemClock()
    services = build_services(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        tracing.configure(settings)
        await services.events.start()
        if services.cluster is not None:
            await services.cluster.start()
        if services.websocket is not None:
            services.websocket.start()
        await services.framecheck.start()
        task = asyncio.create_task(_housekeeping(services))
        services.turn_probe.start()  # in the background: a dead TURN never delays start-up
        _tune_gc()
        _report_compiled(services)
        if not services.accounts.can_mail:
            log.warning(
                "password reset by mail is OFF: CONNECT_SMTP_URL is not set "
                "(POST /api/auth/password-reset answers 503 mail_not_configured)"
            )
        try:
            yield
        finally:
            services.gateway.draining = True
            await services.turn_probe.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if services.websocket is not None:
                await services.websocket.stop()
            await services.hub.shutdown()
            await services.framecheck.close()
            if services.cluster is not None:
                await services.cluster.stop()
            await services.events.close()
            await services.accounts.drain()
            await services.db.close()
            if services.redis is not None:
                await services.redis.aclose()

    api = FastAPI(
        title="Connect",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # connect.websecurity.install_docs: dev only, no inline script
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    api.state.services = services
    http_errors.install(api)
    api.include_router(health_router)
    api.include_router(identity_router)
    api.include_router(turn_router)
    api.include_router(moderation_router)
    api.include_router(admin_router)
    api.include_router(users_router)
    api.include_router(contacts_router)
    api.include_router(calls_router)
    api.include_router(presence_router)
    api.include_router(framecheck_router)
    install_docs(api, settings)
    openapi_errors.document_errors(api)
    web: ASGIApp
    if (STATIC_DIR / "index.html").exists():
        web = Starlette(routes=[Mount("/", StaticFiles(directory=STATIC_DIR, html=True))])
    else:
        web = HTMLResponse("<p>The web app is not built: run <code>make run</code>.</p>", 503)
    return ConnectApp(api, services, web)


API_PREFIXES = ("/api/", "/health", "/metrics")


class ConnectApp:
    """Routes ``/ws`` to the gateway, the API to FastAPI, and any other path to the web app.

    The split keeps a mistyped API path from ever being answered by the
    static file server: /api/* always gets the API's JSON errors.
    """

    def __init__(self, api: FastAPI, services: Services, web: ASGIApp) -> None:
        self.api = api
        self.services = services
        self.web = web
        self.security = WebSecurity(services.settings)
        self.guest_token = token_route.GuestTokenRoute(api, services)
        bounds.static_resources(api)  # now, not on the first request

    def _body_limit(self, path: str) -> int:
        if path == "/api/attachments":
            return self.services.settings.attachment_max_bytes + 64 * 1024
        if path.startswith("/api/strangers/sessions/") and path.endswith("/frames"):
            return self.services.settings.framecheck_max_bytes
        return LARGE_BODY_PATHS.get(path, MAX_BODY_BYTES)

    async def _call_api(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """The API behind the body bound, minus Starlette's re-raise of answered errors.

        Starlette's catch-all answers an unexpected exception (our handler logs it,
        rate-limited) and then raises it again for the server: uvicorn would log a
        second, unthrottled Traceback and drop the keep-alive connection. Once the
        answer has started there is nothing left to do with it.
        """
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        app: ASGIApp = self.api
        if path == token_route.PATH and scope["method"] == "POST" and bounds.parsed_as_json(scope):
            app = self.guest_token
        try:
            await bounds.guard(app, scope, receive, tracking_send, self._body_limit(path))
        except Exception:
            if not started:
                raise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            if scope["path"] == "/ws":
                settings = self.services.settings
                await asgi.serve(
                    self.services.gateway,
                    settings.trusted_proxies,
                    scope,
                    receive,
                    send,
                    settings.geoip_header,
                )
            else:
                await send({"type": "websocket.close", "code": 4004})
            return
        if kind == "http":
            await self.security.serve(scope, receive, send, self._http)
            return
        await self.api(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path.startswith(API_PREFIXES) or path == "/api":
            await observe_http(
                self.services.metrics,
                self.services.ip_hasher,
                self.services.settings.trusted_proxies,
                scope,
                send,
                lambda wrapped_send: self._call_api(scope, receive, wrapped_send, path),
            )
        else:
            await self.web(scope, receive, send)


FULL_COLLECTION_S = 60.0
SUBJECT_STATE_PRUNE_S = 30.0


def _report_compiled(services: Services) -> None:
    """Say whether the hot paths run compiled (connect.compiled); a stale build is a warning."""
    status = compiled.status()
    modules = len(status["modules"])
    services.metrics.compiled_modules.set(modules)
    say = log.warning if status["reason"].startswith("stale") else log.info
    say("compiled_modules", state=status["state"], reason=status["reason"], modules=modules)


def _tune_gc() -> None:
    """Keep the garbage collector's full collections off the busy moments.

    Everything allocated during start-up (modules, the service graph, pydantic
    and SQLAlchemy metadata) lives for the whole process: ``gc.freeze`` moves
    it out of the collector's view, so full collections stop re-walking it.

    A full (generation 2) collection walks every tracked object, and CPython
    starts one whenever the objects promoted since the last exceed a quarter
    of the unfrozen ones. While thousands of connections are made or matched
    that is at once and again: measured at 8,000 connections, six full
    collections of 0.1-0.34 s during one burst of joins (docs/testing.md: the
    first cause of tail latency). So automatic full collections
    are off and :func:`_housekeeping` runs one every ``FULL_COLLECTION_S``:
    the young generations still collect as usual, and a reference cycle
    that reaches the old generation waits at most that long.

    Tried and measured worse here (docs/benchmarks.md): a larger generation-0
    threshold (each collection walks more); full collections ten times rarer
    but still automatic (the churn soak's RSS grew 18%: garbage waited for
    however long the trigger took); and freezing the survivors of each
    scheduled collection (connections hold cycles, socket and listener, task
    and future, and those that died frozen were never collected: +52%).
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000_000)


async def _housekeeping(svc: Services) -> None:
    """Once per sweep interval: widen the queue, forget old session records, refresh gauges.

    Every ``SUBJECT_STATE_PRUNE_S``: forget per-subject state that no longer
    counts (rate-limit keys that have filled up again, abuse signals outside
    their windows), so it holds what its windows need and not up to an hour
    more; and remove attachments no message references once their grace has
    passed (:meth:`connect.uploads.UploadGuard.sweep`; each pass reads only
    what is new since the last).

    Every ``FULL_COLLECTION_S``: a full garbage collection (:func:`_tune_gc`).

    Hourly: delete report transcripts and evidence past their retention.
    """
    interval = svc.settings.match_sweep_interval_s
    last_hourly = last_subjects = float("-inf")
    last_collection = svc.clock.monotonic()
    while True:
        await asyncio.sleep(interval)
        try:
            now = svc.clock.monotonic()
            if now - last_collection >= FULL_COLLECTION_S:
                last_collection = now
                gc.collect()
            await svc.matching.sweep()
            await svc.calls.expire_ringing()
            await svc.sessions.prune()
            if now - last_subjects >= SUBJECT_STATE_PRUNE_S:
                last_subjects = now
                svc.limiter.prune()
                svc.abuse.prune()
                svc.framecheck.prune()
                await svc.uploads.sweep()
            await refresh_gauges(svc)
            if now - last_hourly >= 3600:
                last_hourly = now
                await svc.reports.prune()
        except Exception as exc:
            # An unmigrated database or an outage fails every sweep the same way: one
            # line per cause and interval, not one Traceback a second.
            faults.report("housekeeping", exc)
