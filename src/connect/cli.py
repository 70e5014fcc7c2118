"""The `connect` command: serve, migrate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from connect.clock import SystemClock
from connect.settings import Settings


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
    admin.add_argument("--password", required=True)
    admin.add_argument("--name", default="Admin")
    sub.add_parser("audit-verify", help="check the audit log's hash chain")
    sub.add_parser("turn-config", help="print a coturn config matching these settings")
    proto = sub.add_parser("protocol", help="print the gateway event schemas")
    proto.add_argument("--markdown", action="store_true", help="as a Markdown reference")
    args = parser.parse_args(argv)

    if args.command == "protocol":
        import json

        from connect.protocol import json_schema, markdown

        print(markdown() if args.markdown else json.dumps(json_schema(), indent=2))
        return 0

    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"connect: invalid settings:\n{exc}", file=sys.stderr)
        return 2

    if args.command == "migrate" or getattr(args, "migrate", False):
        _migrate(settings)
        if args.command == "migrate":
            return 0
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    if args.command == "create-admin":
        return asyncio.run(_create_admin(settings, args.email, args.password, args.name))
    if args.command == "audit-verify":
        return asyncio.run(_audit_verify(settings))
    if args.command == "turn-config":
        from connect.turn.config import coturn_config

        print(coturn_config(settings), end="")
        return 0
    return 1


async def _create_admin(settings: Settings, email: str, password: str, name: str) -> int:
    from connect.errors import ConnectError
    from connect.identity.passwords import MIN_PASSWORD
    from connect.moderation.audit import SYSTEM
    from connect.services import build_services

    if len(password) < MIN_PASSWORD:
        print(
            f"connect: the password must have at least {MIN_PASSWORD} characters", file=sys.stderr
        )
        return 2
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
        print(f"connect: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await svc.db.close()
    print(f"created admin {account.email} ({account.id})")
    return 0


async def _audit_verify(settings: Settings) -> int:
    from connect.services import build_services

    svc = build_services(settings, SystemClock())
    try:
        check = await svc.audit.verify()
    finally:
        await svc.db.close()
    if check.ok:
        print(f"audit log intact: {check.checked} entries, head {check.head_hash}")
        return 0
    print(f"audit log BROKEN at entry {check.first_broken_seq}: {check.problem}", file=sys.stderr)
    return 1


def _migrate(settings: Settings) -> None:
    from connect.storage.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url)


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
