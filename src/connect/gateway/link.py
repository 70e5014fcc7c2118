"""What the gateway sees of one WebSocket, whichever server carries it.

A WebSocket server (the picows engine in :mod:`connect.gateway.websocket`,
or any ASGI server through :mod:`connect.gateway.asgi`) hands the gateway a
:class:`Transport` to write to and feeds a :class:`Link` with what arrives.
The gateway's frame loop (one task per socket) takes items from the link in
arrival order, so a handler that waits on a database never lets a later
frame of the same socket overtake it.

Why an inbox and not a queue: the common case is one frame in, handled, and
the task waiting again. :meth:`Link.next` hands over a frame that is already
there without suspending, and otherwise parks on one future that
:meth:`Link.received` resolves; an ``asyncio.Queue`` costs a lock-free but
still sizeable getter/putter dance per frame that this hot path does not need.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol

# A text frame, a binary frame (refused by the contract), or the close code that ended the socket.
Item = str | bytes | int


class Transport(Protocol):
    """Writing side of one WebSocket. Every method returns at once; none may raise."""

    def send_text(self, text: str) -> None:
        """Write one text frame (queued in the transport's buffer if the socket is busy)."""

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel: how far the reader is behind."""

    def close(self, code: int, reason: str) -> None:
        """Send a close frame after what is buffered, then end the connection."""

    def abort(self) -> None:
        """End the connection now, dropping what is buffered (a reader that stopped reading)."""


class Link:
    """The inbox of one socket: frames in arrival order, then its close code.

    At most ``max_pending`` frames wait; one more calls ``overflow`` (the
    endpoint closes the socket) and later frames are dropped, so a client
    cannot pile up memory behind a handler that waits on a slow database.
    """

    __slots__ = ("_inbox", "_max_pending", "_overflow", "_waiter", "ended")

    def __init__(self, max_pending: int, overflow: Callable[[], None]) -> None:
        self._inbox: deque[Item] = deque()
        self._max_pending = max_pending
        self._overflow: Callable[[], None] | None = overflow
        self._waiter: asyncio.Future[None] | None = None
        self.ended = False

    def received(self, item: Item) -> None:
        """Called by the server for every frame, and once with the close code at the end."""
        if self.ended:
            return
        if type(item) is int:
            self.ended = True
        elif len(self._inbox) >= self._max_pending:
            overflow, self._overflow = self._overflow, None
            if overflow is not None:
                overflow()
            return
        self._inbox.append(item)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    @property
    def drained(self) -> bool:
        """The close code has been taken: nothing more will come."""
        return self.ended and not self._inbox

    async def next(self) -> Item:
        """The next item; after the close code has been taken there is none (don't call)."""
        inbox = self._inbox
        while not inbox:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return inbox.popleft()
