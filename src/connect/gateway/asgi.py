"""The gateway behind any ASGI server (``CONNECT_WS_ENGINE=asgi``).

The fallback to :mod:`connect.gateway.websocket`: the same endpoint, fed
from the ASGI receive loop. ASGI's ``send`` is a coroutine, so frames the
gateway writes go through a small buffer drained by one writer task per
socket; :meth:`AsgiTransport.buffered` counts its bytes so a reader that
stops reading is dropped exactly as with the picows engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from connect.gateway.endpoint import GatewayEndpoint
from connect.geo.service import scope_country_hint
from connect.identity.service import scope_client_ip

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class AsgiTransport:
    __slots__ = ("_bytes", "_ended", "_frames", "_send", "_wake", "_writer")

    def __init__(self, send: Send) -> None:
        self._send = send
        self._frames: deque[Message] = deque()
        self._bytes = 0
        self._ended = False
        self._wake = asyncio.Event()
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def send_text(self, text: str) -> None:
        if self._ended:
            return
        self._bytes += len(text)
        self._frames.append({"type": "websocket.send", "text": text})
        self._wake.set()

    def buffered(self) -> int:
        return self._bytes

    def close(self, code: int, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        self._frames.append({"type": "websocket.close", "code": code, "reason": reason})
        self._wake.set()

    def abort(self) -> None:
        """ASGI cannot drop a socket; drop the backlog and close with the policy code."""
        self._frames.clear()
        self._bytes = 0
        self._ended = False
        self.close(4008, "send buffer full")

    async def _write(self) -> None:
        frames = self._frames
        try:
            while True:
                while frames:
                    message = frames.popleft()
                    self._bytes -= len(message.get("text", ""))
                    await self._send(message)
                    if message["type"] == "websocket.close":
                        return
                self._wake.clear()
                await self._wake.wait()
        except (OSError, RuntimeError):
            self._ended = True

    async def stop(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


INVALID_UTF8 = "Invalid UTF-8 sequence received from client."


class _InvalidUtf8IsOneLine(logging.Filter):
    """uvicorn logs a client's invalid UTF-8 text frame as an error with a Traceback.

    It is the client's fault and already answered (close 1007), not the
    server's: one info line, no Traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == INVALID_UTF8:
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.INFO
            record.levelname = "INFO"
        return True


_QUIET = _InvalidUtf8IsOneLine()


def _quiet_invalid_utf8() -> None:
    """Installed at the first connection: uvicorn has configured its loggers by then."""
    logger = logging.getLogger("uvicorn.error")
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)


async def serve(
    endpoint: GatewayEndpoint,
    trusted_proxies: list[str],
    scope: MutableMapping[str, Any],
    receive: Receive,
    send: Send,
    geoip_header: str | None = None,
) -> None:
    """One ASGI WebSocket connection, for its whole life."""
    _quiet_invalid_utf8()
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    transport = AsgiTransport(send)
    link = endpoint.open(
        transport,
        scope_client_ip(scope, trusted_proxies),
        scope_country_hint(scope, geoip_header, trusted_proxies),
    )
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                if link is not None:
                    link.received(int(message.get("code", 1005)))
                return
            if link is not None:
                text = message.get("text")
                link.received(text if text is not None else message.get("bytes") or b"")
    finally:
        await transport.stop()
