"""Which exceptions mean "a dependency is down", and the once-per-interval fault log."""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg
import pytest
import redis.exceptions
import structlog
from sqlalchemy.exc import OperationalError, ProgrammingError

from connect.errors import FaultLog, dependency_cause
from tests.support.server import free_port


def wrapped(orig: BaseException, kind: Any = OperationalError) -> BaseException:
    """What SQLAlchemy raises for a driver error (statement and parameters included)."""
    try:
        raise kind("SELECT 1", {"password_hash": "$argon2id$secret"}, orig) from orig
    except Exception as exc:
        return exc


async def test_a_refused_postgres_connection_is_the_database() -> None:
    with pytest.raises(ConnectionRefusedError) as caught:
        await asyncpg.connect(f"postgresql://x@127.0.0.1:{free_port()}/db", timeout=5)
    assert dependency_cause(caught.value) == "database"


@pytest.mark.parametrize(
    ("exc", "cause"),
    [
        (redis.exceptions.ConnectionError("Connection refused"), "redis"),
        (redis.exceptions.TimeoutError("Timeout reading from socket"), "redis"),
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed"), "database"),
        (asyncpg.exceptions.CannotConnectNowError("starting up"), "database"),
        (asyncpg.exceptions.AdminShutdownError("terminating"), "database"),
        (asyncpg.exceptions.UndefinedTableError("relation does not exist"), "schema"),
        (wrapped(asyncpg.exceptions.UndefinedTableError("x"), ProgrammingError), "schema"),
        (wrapped(sqlite3.OperationalError("no such table: accounts")), "schema"),
        (wrapped(sqlite3.OperationalError("database is locked")), "database"),
        (wrapped(sqlite3.OperationalError("near 'x': syntax error")), None),
        (OSError("a bug of our own, not a client library's"), None),
        (ValueError("a bug"), None),
    ],
)
def test_dependency_cause(exc: BaseException, cause: str | None) -> None:
    assert dependency_cause(exc) == cause


def test_each_cause_is_logged_once_per_interval_with_the_count_between() -> None:
    now = [0.0]
    faults = FaultLog(interval_s=30, clock=lambda: now[0])
    down = redis.exceptions.ConnectionError("refused")
    with structlog.testing.capture_logs() as logs:
        for _ in range(100):
            faults.report("POST /api/channels/{id}/messages", down)
            faults.report("housekeeping", down)
        now[0] = 31.0
        faults.report("gateway hello", down)
        faults.recovered("redis")
        faults.report("gateway hello", down)
        for _ in range(3):
            faults.report("GET /api/auth/me", ValueError("bug"))
    events = [(e["event"], e.get("repeats_since_last")) for e in logs]
    assert events == [
        ("dependency_unavailable", 0),
        ("dependency_unavailable", 199),
        ("dependency_recovered", 0),
        ("dependency_unavailable", 0),
        ("unexpected_error", 0),
    ]
    assert all("secret" not in str(e) for e in logs)


def test_the_log_names_types_never_the_driver_text() -> None:
    faults = FaultLog()
    with structlog.testing.capture_logs() as logs:
        faults.report(
            "POST /api/auth/signup", wrapped(sqlite3.OperationalError("database is locked"))
        )
    assert logs[0]["error"] == "OperationalError(OperationalError)"
    assert "argon2" not in str(logs[0])
