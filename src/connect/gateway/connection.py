"""One WebSocket, and the client place that outlives it.

:class:`Connection` is a socket: a bounded send queue drained by one writer
task, so a slow reader can never make a sender wait and never grows the
server's memory — when its queue is full it is closed with 4008 instead.

:class:`Client` is the place a visitor holds in the system (queue ticket,
session membership). It survives a dropped socket for the resume grace
period; frames for it during that gap go to a bounded buffer and are
replayed when a new socket presents the resume token.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from connect.gateway import close_codes, codec
from connect.identity.service import Principal
from connect.ratelimit import TokenBucket

ASGISend = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_CLOSE = object()


class Connection:
    __slots__ = (
        "_closing",
        "_queue",
        "_send",
        "_writer",
        "bucket",
        "close_code",
        "ip_hash",
        "refusals",
    )

    def __init__(self, send: ASGISend, queue_size: int, bucket: TokenBucket, ip_hash: str) -> None:
        self._send = send
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=queue_size)
        self._closing = False
        self._writer = asyncio.get_running_loop().create_task(self._write())
        self.bucket = bucket
        self.refusals = 0
        self.close_code: int | None = None
        self.ip_hash = ip_hash

    @property
    def closing(self) -> bool:
        return self._closing

    def push(self, text: str) -> bool:
        """Queue a text frame; a full queue means the client stopped reading: close it."""
        if self._closing:
            return False
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.close(close_codes.TOO_SLOW, "send queue full")
            return False
        return True

    def push_event(self, event: str, data: Mapping[str, Any]) -> bool:
        return self.push(codec.event(event, data))

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued (or at once if the queue is full)."""
        if self._closing:
            return
        self._closing = True
        self.close_code = code
        frame = {"type": "websocket.close", "code": code, "reason": reason[:120]}
        try:
            self._queue.put_nowait((_CLOSE, frame))
        except asyncio.QueueFull:
            self._writer.cancel()
            self._writer = asyncio.get_running_loop().create_task(self._send_quietly(frame))

    async def stop(self) -> None:
        """Called once the socket is gone: end the writer."""
        self._closing = True
        if not self._writer.done():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def _write(self) -> None:
        send = self._send
        queue = self._queue
        try:
            while True:
                item = await queue.get()
                if type(item) is str:
                    await send({"type": "websocket.send", "text": item})
                else:
                    assert isinstance(item, tuple)
                    await send(item[1])
                    return
        except (OSError, RuntimeError):
            self._closing = True

    async def _send_quietly(self, frame: MutableMapping[str, Any]) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            await self._send(frame)


class Client:
    """A visitor's place in the gateway, stable across resumes."""

    __slots__ = (
        "attached",
        "conn",
        "gap",
        "gap_dropped",
        "id",
        "ip_hash",
        "principal",
        "resume_token",
        "state",
    )

    def __init__(
        self, client_id: str, principal: Principal, ip_hash: str, resume_token: str
    ) -> None:
        self.id = client_id
        self.principal = principal
        self.ip_hash = ip_hash
        self.resume_token = resume_token
        self.conn: Connection | None = None
        self.gap: deque[str] | None = None
        self.gap_dropped = 0
        self.attached = 0.0
        self.state: dict[str, Any] = {}

    @property
    def subject(self) -> str:
        return self.principal.subject

    def push_event(self, event: str, data: Mapping[str, Any]) -> bool:
        return self.push(codec.event(event, data))

    def push(self, text: str) -> bool:
        if self.conn is not None:
            return self.conn.push(text)
        if self.gap is not None:
            if self.gap.maxlen is not None and len(self.gap) == self.gap.maxlen:
                self.gap_dropped += 1
            self.gap.append(text)
            return True
        return False
