"""How the REST API answers an exception: the contract's error bodies, one place.

FastAPI's exception handlers (:func:`install`) and the routes served before
FastAPI (:mod:`connect.identity.token_route`) answer with these, so a refusal
reads the same whichever path served the request.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from connect import bounds
from connect.errors import SCHEMA_RETRY_MS, UNAVAILABLE_RETRY_MS, ConnectError, faults, unavailable
from connect.services import Services


def dependency_errors(database_url: str) -> tuple[type[Exception], ...]:
    """The exception types an outage of a dependency raises into a route.

    asyncpg's own errors only with PostgreSQL: a node on SQLite never imports the
    driver (about 3 MB resident), and no asyncpg error can reach its routes.
    """
    kinds: list[type[Exception]] = [OSError, SQLAlchemyError, RedisError]
    if make_url(database_url).get_backend_name() == "postgresql":
        from asyncpg.exceptions import (  # type: ignore[import-untyped]
            InterfaceError,
            PostgresError,
        )

        kinds += [PostgresError, InterfaceError]
    return tuple(kinds)


def refusal(svc: Services, exc: ConnectError) -> JSONResponse:
    """A :class:`ConnectError` as the contract's error body, counted by code."""
    svc.metrics.errors.labels(exc.code).inc()
    headers = {}
    if exc.retry_after_ms is not None:
        headers["Retry-After"] = str(max(1, -(-exc.retry_after_ms // 1000)))
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def failure(svc: Services, where: str, exc: Exception) -> JSONResponse:
    """Anything else a route raised.

    An exhausted database pool sheds load (503 ``overloaded``); a dependency
    that is down answers 503 ``unavailable``, else 500. Logged once per cause
    and interval (:class:`connect.errors.FaultLog`), never once per request.
    """
    if isinstance(exc, ConnectError):
        return refusal(svc, exc)
    if isinstance(exc, PoolTimeout):
        faults.report("database pool", exc, "database pool exhausted")
        return refusal(
            svc,
            ConnectError(
                "overloaded", "the server is busy, retry shortly", status=503, retry_after_ms=1000
            ),
        )
    cause = faults.report(where, exc)
    if cause is not None:
        retry = SCHEMA_RETRY_MS if cause == "schema" else UNAVAILABLE_RETRY_MS
        return refusal(svc, unavailable(retry))
    svc.metrics.errors.labels("internal_error").inc()
    return JSONResponse(
        {"error": {"code": "internal_error", "message": "internal error"}}, status_code=500
    )


def install(api: FastAPI) -> None:
    """FastAPI's exception handlers, answering with :func:`refusal` and :func:`failure`."""

    def services() -> Services:
        svc: Services = api.state.services
        return svc

    async def connect_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ConnectError)
        return refusal(services(), exc)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        err = ConnectError("invalid_request", f"{where}: {first.get('msg', 'invalid')}"[:200])
        return refusal(services(), err)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )  # 400: a body FastAPI could not parse (not JSON, not UTF-8)
        headers = exc.headers
        if exc.status_code == 405:
            headers = {"Allow": bounds.allowed_methods(api, request.scope)}
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail)}},
            status_code=exc.status_code,
            headers=headers,
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return failure(services(), f"{request.method} {route_template(request)}", exc)

    api.add_exception_handler(ConnectError, connect_error)
    api.add_exception_handler(RequestValidationError, validation_error)
    api.add_exception_handler(StarletteHTTPException, http_error)
    api.add_exception_handler(PoolTimeout, unexpected)
    # The errors an outage raises, handled inside the app (Starlette re-raises whatever
    # reaches its catch-all after answering, which logs a Traceback per request and
    # drops the keep-alive connection).
    for kind in dependency_errors(services().settings.sqlalchemy_url):
        api.add_exception_handler(kind, unexpected)
    api.add_exception_handler(Exception, unexpected)


def route_template(request: Request) -> str:
    """The route's template (``/api/contacts/{id}``), never the raw path with its ids."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "?"))
