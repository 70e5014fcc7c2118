"""structlog set-up: JSON lines in prod, readable lines in dev.

Nothing logged may carry a raw IP address or message text; client addresses
appear only as the salted hash the identity service computes.
"""

from __future__ import annotations

import logging
import sys

import structlog


class _NoClientAddress(logging.Filter):
    """Drop lines that would leak PII: uvicorn's per-connection lines (the raw client
    address) and, at debug level, the WebSocket library's handshake and frame dumps
    (headers such as X-Forwarded-For, and message text), which it logs through uvicorn's
    logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg
        if not isinstance(msg, str):
            return True
        if msg.startswith('%s - "WebSocket'):
            return False
        return not (record.levelno <= logging.DEBUG and msg.startswith(("< ", "> ", "= ", "%s - ")))


def configure(level: str, *, json: bool) -> None:
    """Configure stdlib logging (uvicorn's loggers included) and structlog."""
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper(), force=True)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).addFilter(_NoClientAddress())
    # At debug level the websockets library logs whole handshakes (headers such as
    # X-Forwarded-For): it never goes below info.
    logging.getLogger("websockets").setLevel(max(logging.INFO, logging.getLevelName(level.upper())))
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
