"""The `connect` command: serve, migrate, create-admin, audit-verify, turn-config, protocol,
loadtest.

Every failure ends in one line on stderr and a non-zero exit, never a Traceback:
an exception's text can carry SQL parameters (a new admin's password hash), and an
operator on a fresh machine needs the next step, not a stack. Exit codes: 1 for a
failure (the database is down, the email is taken), 2 for something the operator
must fix first (settings, arguments, an unmigrated database).

Commands that need the database check its schema before they touch anything: on a
fresh data directory they say to run ``connect migrate`` and create no file.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from connect.clock import SystemClock
from connect.settings import Settings

USAGE = 2
FAILED = 1


class CliError(Exception):
    """A failure already phrased for the operator; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="connect", description="Connect video chat service")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    sub.add_parser("migrate", help="apply database migrations")
    admin = sub.add_parser("create-admin", help="create an admin account (the first staff member)")
    admin.add_argument("--email", required=True)
    admin.add_argument(
        "--password",
        default=None,
        help="the password (at least 10 characters); asked for, or read from stdin, when left out",
    )
    admin.add_argument("--name", default="Admin")
    sub.add_parser("audit-verify", help="check the audit log's hash chain")
    sub.add_parser("turn-config", help="print a coturn config matching these settings")
    proto = sub.add_parser("protocol", help="print the gateway event schemas")
    proto.add_argument("--markdown", action="store_true", help="as a Markdown reference")
    from connect.loadtest.options import add_parser as add_loadtest

    add_loadtest(sub)
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except CliError as exc:
        print(f"connect {args.command}: {exc.message}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        print(f"connect {args.command}: {describe(exc)}", file=sys.stderr)
        return FAILED


def describe(exc: BaseException) -> str:
    """One line for an unexpected failure: what to check, and the error's type only."""
    from connect.errors import dependency_cause

    kind = type(exc).__name__
    cause = dependency_cause(exc)
    if cause == "database":
        return f"cannot reach the database ({kind}): check CONNECT_DATABASE_URL and that it runs"
    if cause == "redis":
        return (
            f"cannot reach Redis ({kind}): check CONNECT_REDIS_URL (or CONNECT_REDIS_SENTINELS"
            " and CONNECT_REDIS_SENTINEL_MASTER) and that it runs"
        )
    if cause == "schema":
        return "the database is not migrated: run `connect migrate` first"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or kind}"
    if type(exc).__module__.split(".", 1)[0] in _QUIET_MODULES:
        # A driver's text can quote the statement's parameters (a password hash).
        return f"failed ({kind})"
    text = " ".join(str(exc).split())[:200]
    return f"failed ({kind}: {text})" if text else f"failed ({kind})"


_QUIET_MODULES = {"sqlalchemy", "asyncpg", "sqlite3", "aiosqlite", "redis", "alembic"}


def _run(args: argparse.Namespace) -> int:
    if args.command == "protocol":
        import json

        from connect.protocol import json_schema, markdown

        print(markdown() if args.markdown else json.dumps(json_schema(), indent=2))
        return 0
    if args.command == "loadtest":
        return _loadtest(args)

    settings = _settings()
    if args.command == "turn-config":
        from connect.turn.config import coturn_config

        print(coturn_config(settings), end="")
        return 0
    if args.command == "migrate":
        _migrate(settings)
        print(f"database migrated to {_head()}")
        return 0
    if args.command == "serve" and args.migrate:
        _migrate_apart(settings)
    else:
        # Every other command needs a database at this version's schema.
        _require_schema(settings)
    if args.command == "serve":
        if settings.redis_url:
            asyncio.run(_ping_redis(settings))
        return _serve(settings, args.host, args.port)
    if args.command == "create-admin":
        email, password, name = _admin_input(args.email, args.password, args.name)
        return asyncio.run(_create_admin(settings, email, password, name))
    if args.command == "audit-verify":
        return asyncio.run(_audit_verify(settings))
    raise CliError(f"unknown command {args.command!r}", USAGE)


def _loadtest(args: argparse.Namespace) -> int:
    """A load test of a running deployment: needs no settings or database of its own."""
    from connect.loadtest.options import config_from
    from connect.loadtest.runner import LoadTestFailed, run
    from connect.loadtest.target import TargetRefused

    try:
        config = config_from(args)
    except ValueError as exc:
        raise CliError(str(exc), USAGE) from None
    try:
        return run(config)
    except TargetRefused as exc:
        raise CliError(str(exc), USAGE) from None
    except LoadTestFailed as exc:
        raise CliError(str(exc)) from None


def _settings() -> Settings:
    """The settings from the environment; an invalid one named in one line, its value never."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False, include_input=False, include_context=False):
            where = "_".join(str(p) for p in err["loc"]).upper()
            name = f"CONNECT_{where}" if where else "settings"
            problems.append(f"{name}: {err['msg']}")
        raise CliError("invalid settings: " + "; ".join(problems), USAGE) from None


def _head() -> str:
    from connect.storage.migrate import current_head

    return current_head() or "base"


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _require_schema(settings: Settings) -> None:
    """Refuse to go on unless the database exists and its schema is at this version's head.

    A missing SQLite file is checked before connecting, which would create it
    (an empty connect.db that the next command then takes for a database).
    """
    from connect.storage.migrate import schema_problem

    url = settings.sqlalchemy_url
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        raise CliError(f"no database at {path}: run `connect migrate` first", USAGE)
    problem = schema_problem(asyncio.run(_revision(url)))
    if problem is not None:
        raise CliError(f"{problem}: run `connect migrate` first", USAGE)


async def _revision(url: str) -> str | None:
    from connect.storage.db import Database

    db = Database(url)
    try:
        return await db.revision()
    finally:
        await db.close()


async def _ping_redis(settings: Settings) -> None:
    """A node cannot start its cluster state without Redis: say so in one line, not in
    the startup Traceback uvicorn would print (through Sentinel when configured)."""
    from connect.storage.redis import client_for

    client = client_for(settings, pool_size=1, socket_connect_timeout=5, socket_timeout=5)
    assert client is not None
    try:
        await client.ping()
    finally:
        await client.aclose()


def _admin_input(email: str, password: str | None, name: str) -> tuple[str, str, str]:
    """Validate the new admin as the staff API would (so it can log in), before any I/O."""
    from connect.identity.schemas import StaffIn

    if password is None:
        password = _read_password()
    try:
        staff = StaffIn(email=email, password=password, display_name=name, role="admin")
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False, include_context=False)[0]
        field = str(err["loc"][0]) if err["loc"] else "input"
        hint = {
            "email": "not a valid email address",
            "password": "the password must have 10 to 256 characters",
            "display_name": "the name must have 1 to 64 characters",
        }.get(field, str(err["msg"]))
        raise CliError(f"--{'name' if field == 'display_name' else field}: {hint}", USAGE) from None
    return staff.email, staff.password, staff.display_name


def _read_password() -> str:
    """Ask twice on a terminal; otherwise read one line from stdin (for scripts)."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password for the new admin: ")
        if getpass.getpass("Again: ") != first:
            raise CliError("the passwords differ", USAGE)
        return first
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CliError("no password: give --password or one line on stdin", USAGE)
    return line


async def _create_admin(settings: Settings, email: str, password: str, name: str) -> int:
    from connect.errors import ConnectError
    from connect.moderation.audit import SYSTEM
    from connect.services import build_services

    svc = build_services(settings, SystemClock())
    try:
        account = await svc.accounts.create(email, password, name, "admin")
        await svc.audit.append(
            SYSTEM,
            "staff.create",
            "account",
            account.id,
            {"email": account.email, "role": "admin", "via": "cli"},
        )
    except ConnectError as exc:
        raise CliError(exc.message) from None
    finally:
        await svc.db.close()
        if svc.redis is not None:
            await svc.redis.aclose()
    print(f"created admin {account.email} ({account.id})")
    return 0


async def _audit_verify(settings: Settings) -> int:
    from connect.services import build_services

    svc = build_services(settings, SystemClock())
    try:
        check = await svc.audit.verify()
    finally:
        await svc.db.close()
        if svc.redis is not None:
            await svc.redis.aclose()
    if check.ok:
        print(f"audit log intact: {check.checked} entries, head {check.head_hash}")
        return 0
    print(f"audit log BROKEN at entry {check.first_broken_seq}: {check.problem}", file=sys.stderr)
    return 1


def _migrate(settings: Settings) -> None:
    from connect.storage.migrate import upgrade

    path = _sqlite_file(settings.sqlalchemy_url)
    created = path is not None and not path.exists()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.sqlalchemy_url)
    except BaseException:
        if created and path is not None and path.exists() and path.stat().st_size == 0:
            path.unlink()  # an empty file would pass for a database next time
        raise


def _migrate_apart(settings: Settings) -> None:
    """``serve --migrate``: migrate in a child process, then serve in this one.

    Alembic, Mako and the migration's own objects then never live in the serving
    process: migrating in it left them resident for the node's life (idle RSS
    137 MB, Alembic and Mako about 10 of it). The child is a plain interpreter
    given the settings on stdin (not multiprocessing, which would re-run an
    unguarded ``__main__`` that calls :func:`main`); it fails as ``connect
    migrate`` would, in one line and the same exit code.
    """
    import os
    import pickle
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.run(
        [sys.executable, "-c", "from connect.cli import _migrate_child; _migrate_child()"],
        input=pickle.dumps(settings),
        stdout=subprocess.PIPE,
        env=env,
        check=False,
    )
    if child.returncode != 0:
        message = child.stdout.decode(errors="replace").strip() or "the migration failed"
        raise CliError(message, child.returncode if child.returncode > 0 else FAILED)


def _migrate_child() -> None:
    """The child's side of :func:`_migrate_apart`: the failure's line on stdout, its code."""
    import pickle

    settings = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - our own parent's settings
    try:
        _migrate(settings)
    except CliError as exc:
        print(exc.message)
        raise SystemExit(exc.code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None  # Ctrl-C reaches both processes: no Traceback here
    except Exception as exc:
        print(describe(exc))
        raise SystemExit(FAILED) from None


def _serve(settings: Settings, host: str | None, port: int | None) -> int:
    import uvicorn

    from connect.app import create_app
    from connect.observability.logging import configure

    configure(settings.log_level, json=settings.env == "prod")
    app = create_app(settings)
    engine = app.services.websocket
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        http=engine.uvicorn_http() if engine is not None else "auto",  # type: ignore[arg-type]
        ws=engine.uvicorn_protocol if engine is not None else "websockets-sansio",  # type: ignore[arg-type]
        ws_max_size=settings.max_frame_bytes * 4,
        ws_ping_interval=settings.heartbeat_s,
        ws_ping_timeout=settings.heartbeat_s,
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
