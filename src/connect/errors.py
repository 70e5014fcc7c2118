"""One error type for the whole service, and its machine codes.

Services raise :class:`ConnectError`; the REST layer and the gateway both turn
it into the contract's shape ``{"error": {"code", "message"}}`` so clients see
one vocabulary whichever transport they use.
"""

from __future__ import annotations

from typing import Any


class ConnectError(Exception):
    """A refusal the client caused and can understand.

    ``status`` is the HTTP status for REST; the gateway ignores it.
    ``retry_after_ms`` is set when the refusal is a rate limit.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        retry_after_ms: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after_ms = retry_after_ms
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        """The contract's error shape; ``extra`` adds siblings of ``error`` (e.g. ``ban``)."""
        out: dict[str, Any] = {"error": {"code": self.code, "message": self.message}}
        if self.retry_after_ms is not None:
            out["retryAfterMs"] = self.retry_after_ms
        out.update(self.extra)
        return out


def bad_request(message: str, code: str = "invalid_request") -> ConnectError:
    return ConnectError(code, message, status=400)


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
