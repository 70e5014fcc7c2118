"""One error type for the whole service, and its machine codes.

Services raise :class:`ConnectError`; the REST layer and the gateway both turn
it into the contract's shape ``{"error": {"code", "message"}}`` so clients see
one vocabulary whichever transport they use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class ConnectError(Exception):
    """A refusal the client caused and can understand.

    ``status`` is the HTTP status for REST; the gateway ignores it.
    ``retry_after_ms`` is set when the refusal is a rate limit.
    ``reason`` and ``params`` name *why* when ``code`` alone does not (a 400
    ``invalid_request`` can mean many things): clients translate the reason
    with its parameters, and ``message`` stays the English fallback.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        retry_after_ms: int | None = None,
        extra: dict[str, Any] | None = None,
        reason: str | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after_ms = retry_after_ms
        self.extra = extra or {}
        self.reason = reason
        self.params = dict(params or {})

    def body(self) -> dict[str, Any]:
        """The contract's error shape; ``extra`` adds siblings of ``error`` (e.g. ``ban``)."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.reason is not None:
            error["reason"] = self.reason
            error["params"] = self.params
        out: dict[str, Any] = {"error": error}
        if self.retry_after_ms is not None:
            out["retryAfterMs"] = self.retry_after_ms
        out.update(self.extra)
        return out


def bad_request(message: str, code: str = "invalid_request") -> ConnectError:
    return ConnectError(code, message, status=400)


def refusal(
    templates: Mapping[str, str], reason: str, status: int = 400, **params: str | int
) -> ConnectError:
    """A 400 ``invalid_request`` naming its ``reason`` code; ``message`` is its English form.

    ``templates`` maps each reason code to its English sentence (``str.format``
    fields named like ``params``), so the code and the fallback text cannot drift.
    """
    return reasoned("invalid_request", status, templates, reason, **params)


def reasoned(
    code: str, status: int, templates: Mapping[str, str], reason: str, /, **params: str | int
) -> ConnectError:
    """A refusal with any ``code`` that also names its ``reason`` (see :func:`refusal`):
    for the codes that several causes share (``forbidden``, ``not_found``, ``blocked``...)."""
    message = templates[reason].format(**params)
    return ConnectError(code, message, status=status, reason=reason, params=params)


def unauthorized(message: str = "a valid token is required") -> ConnectError:
    return ConnectError("unauthorized", message, status=401)


def forbidden(message: str) -> ConnectError:
    return ConnectError("forbidden", message, status=403)


def not_found(message: str) -> ConnectError:
    return ConnectError("not_found", message, status=404)


def conflict(message: str, code: str = "conflict") -> ConnectError:
    return ConnectError(code, message, status=409)


def rate_limited(retry_after_ms: int, message: str = "too many requests") -> ConnectError:
    return ConnectError("rate_limited", message, status=429, retry_after_ms=retry_after_ms)


# -- dependency outages --------------------------------------------------------------

UNAVAILABLE_RETRY_MS = 2000
"""What a client is told to wait before retrying while a dependency is down: long enough
that a few thousand clients retrying do not become the load that keeps it down, short
enough that a restart of PostgreSQL or Redis (seconds) is noticed soon after."""

SCHEMA_RETRY_MS = 30_000
"""An unmigrated or outdated schema does not heal by itself: retry far less often."""


def unavailable(
    retry_after_ms: int = UNAVAILABLE_RETRY_MS,
    message: str = "the service is temporarily unavailable, retry shortly",
) -> ConnectError:
    """503 ``unavailable``: a dependency this request needs (database, Redis) is down.

    The message never names the dependency or the error: clients only need to know
    that retrying later will help, and when.
    """
    return ConnectError("unavailable", message, status=503, retry_after_ms=retry_after_ms)


# SQLSTATE classes of PostgreSQL errors that mean "the server is not there for us right
# now" rather than "this statement is wrong": connection exceptions (08), operator
# intervention such as a shutdown or a server still starting (57P), insufficient
# resources such as too many connections (53).
_PG_DOWN_SQLSTATES = ("08", "57P", "53")
# Undefined table / column: the code is newer than the schema (not migrated).
_PG_SCHEMA_SQLSTATES = ("42P01", "42703")
_SQLITE_SCHEMA = ("no such table", "no such column")
_SQLITE_DOWN = (
    "database is locked",
    "disk i/o error",
    "unable to open database file",
    "database or disk is full",
    "readonly database",
)
_CLIENT_MODULES = {
    "redis": "redis",
    "asyncpg": "database",
    "sqlalchemy": "database",
    "aiosqlite": "database",
    "sqlite3": "database",
}


class DependencyDown(Exception):
    """An outage already attributed to its dependency where it happened (``cause``:
    ``database``, ``redis`` or ``schema``; the original is its ``__cause__``).

    Raised by work whose one failure many callers share, such as the ban index's single
    reload: each waiter re-raises the same exception object, and a bare ``OSError`` is
    attributed by the frames of its traceback (:func:`dependency_cause`), which by then
    also hold every waiter's frames, and lose the library's frames where a waiter's
    frame is a compiled one (mypyc). Attributed once at the source, it stays what it is.
    """

    def __init__(self, cause: str) -> None:
        super().__init__(f"{cause} unavailable")
        self.cause = cause


def attributed(exc: BaseException) -> BaseException:
    """``exc`` as a :class:`DependencyDown` when it is an outage, else ``exc`` itself."""
    cause = dependency_cause(exc)
    return exc if cause is None else DependencyDown(cause)


def dependency_cause(exc: BaseException) -> str | None:
    """Which dependency an exception says is unavailable: ``database``, ``redis``,
    ``schema`` (the database answers but is not migrated), or None for anything else.

    Why by inspection rather than by class alone: the same outage arrives as
    different types depending on where it hits. A refused PostgreSQL connection is a
    bare ``ConnectionRefusedError`` (SQLAlchemy does not wrap connect errors that are
    not DBAPI errors), a connection lost mid-query is a wrapped asyncpg error, a
    stopped Redis is redis-py's ``ConnectionError``. A bare ``OSError`` is attributed by
    the library it was raised in, so a bug's own OSError is not taken for an outage.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        cause = _cause_of(current)
        if cause is not None:
            return cause
        nxt = getattr(current, "orig", None)
        if not isinstance(nxt, BaseException):
            nxt = current.__cause__ or current.__context__
        current = nxt
    return None


def _cause_of(exc: BaseException) -> str | None:
    if isinstance(exc, DependencyDown):
        return exc.cause
    module = type(exc).__module__
    name = type(exc).__name__
    if module.startswith("redis"):
        if name in ("ConnectionError", "TimeoutError", "BusyLoadingError", "ReadOnlyError"):
            return "redis"
        from redis.exceptions import ConnectionError as RedisConnectionError

        return "redis" if isinstance(exc, RedisConnectionError) else None
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        if sqlstate.startswith(_PG_SCHEMA_SQLSTATES):
            return "schema"
        if sqlstate.startswith(_PG_DOWN_SQLSTATES):
            return "database"
    if module.startswith("asyncpg") and name in (
        "InterfaceError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "ClientCannotConnectError",
        "ConnectionRejectionError",
        "CannotConnectNowError",
        "TooManyConnectionsError",
        # "cannot switch to state ...; another operation is in progress": the server's
        # shutdown notice arrived on a connection in the middle of a statement.
        "InternalClientError",
    ):
        return "database"
    if module.startswith("sqlalchemy"):
        if getattr(exc, "connection_invalidated", False):
            return "database"
        if name == "TimeoutError":  # the pool waited its whole timeout for a connection
            return "database"
    if name == "OperationalError" or module.startswith("sqlite3"):
        text = str(exc).lower()
        if any(marker in text for marker in _SQLITE_SCHEMA):
            return "schema"
        if any(marker in text for marker in _SQLITE_DOWN):
            return "database"
    if isinstance(exc, OSError):
        return _raised_in(exc)
    return None


def _raised_in(exc: BaseException) -> str | None:
    """The dependency whose client library raised ``exc`` (by the innermost frame's module)."""
    tb = exc.__traceback__
    found: str | None = None
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        top = module.split(".", 1)[0]
        if top in _CLIENT_MODULES:
            found = _CLIENT_MODULES[top]
        tb = tb.tb_next
    return found


class FaultLog:
    """Log each fault once per cause and interval, not once per request.

    During an outage every request fails the same way: hundreds of identical
    Tracebacks a minute bury the one line an operator needs. The first failure of
    a cause is logged at once; repeats within ``interval_s`` are counted, and the
    count goes out with the next line of that cause. Outages are logged as a
    warning without a Traceback (the cause is known); anything else keeps its
    Traceback, rate-limited the same way. Only type names are logged: an
    exception's text can carry SQL parameters (emails, password hashes).
    """

    def __init__(self, interval_s: float = 30.0, clock: Callable[[], float] | None = None) -> None:
        import time

        self.interval_s = interval_s
        self._clock = clock or time.monotonic
        self._last: dict[tuple[str, str], float] = {}
        self._suppressed: dict[tuple[str, str], int] = {}
        self._down: set[str] = set()

    def _due(self, key: tuple[str, str]) -> int | None:
        """None when this key was logged within the interval; else the suppressed count."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._suppressed.pop(key, 0)

    def report(self, where: str, exc: BaseException, cause: str | None = None) -> str | None:
        """Log ``exc`` (raised while doing ``where``) if due; return its dependency cause."""
        import structlog

        log = structlog.get_logger("connect.faults")
        cause = cause or dependency_cause(exc)
        key = (cause, "") if cause is not None else (where, type(exc).__name__)
        if cause is not None:
            self._down.add(cause)
        suppressed = self._due(key)
        if suppressed is None:
            return cause
        if cause is not None:
            log.warning(
                "dependency_unavailable",
                dependency=cause,
                where=where,
                error=_type_names(exc),
                repeats_since_last=suppressed,
            )
        else:
            log.error(
                "unexpected_error",
                where=where,
                error=type(exc).__name__,
                repeats_since_last=suppressed,
                exc_info=exc,
            )
        return cause

    def recovered(self, cause: str) -> None:
        """``cause`` answered again: say so once, and log its next failure at once."""
        if cause not in self._down:
            return
        self._down.discard(cause)
        key = (cause, "")
        self._last.pop(key, None)
        failures = self._suppressed.pop(key, 0)
        import structlog

        structlog.get_logger("connect.faults").warning(
            "dependency_recovered", dependency=cause, repeats_since_last=failures
        )


def _type_names(exc: BaseException) -> str:
    """``OperationalError(ConnectionDoesNotExistError)``: the wrapper and what it wraps."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        inner = orig.__cause__ if orig.__cause__ is not None else orig
        return f"{type(exc).__name__}({type(inner).__name__})"
    return type(exc).__name__


faults = FaultLog()
"""The process's one fault log: REST, the gateway and background jobs share it, so an
outage is one line per interval for the whole node, not one per entry point."""
