"""The `connect` command: serve, migrate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from connect.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="connect", description="Connect video chat service")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    sub.add_parser("migrate", help="apply database migrations")
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
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        ws_max_size=settings.max_frame_bytes * 4,
        ws_ping_interval=settings.heartbeat_s,
        ws_ping_timeout=settings.heartbeat_s,
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
