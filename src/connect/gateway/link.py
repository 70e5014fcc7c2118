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

Why frames are handled in the read callback (:meth:`Link.handle_directly`):
most frames are relays that need no I/O, and waking the frame loop for
each one (a future, a scheduled callback, a task step) cost about as much
as the relay itself (docs/benchmarks.md). So when the loop is idle, with
nothing queued and nothing in flight, a text frame goes straight to the
gateway's ``direct`` callable, which does all of the work that needs no
waiting and returns what still must be awaited, if anything; that goes
into the inbox for the loop, and later frames queue behind it. Order is
kept because the direct path is taken only when nothing is ahead.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

# Work the direct path left for the frame loop to await.
Pending = Callable[[], Awaitable[None]]
# A text frame, a binary frame (refused by the contract), pending work, or the
# close code that ended the socket.
Item = str | bytes | int | Pending
Direct = Callable[[str], Pending | None]


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

    __slots__ = ("_direct", "_inbox", "_max_pending", "_overflow", "_waiter", "ended")

    def __init__(self, max_pending: int, overflow: Callable[[], None]) -> None:
        self._inbox: deque[Item] = deque()
        self._max_pending = max_pending
        self._overflow: Callable[[], None] | None = overflow
        self._waiter: asyncio.Future[None] | None = None
        self._direct: Direct | None = None
        self.ended = False

    def handle_directly(self, direct: Direct) -> None:
        """From now on, give text frames that find the loop idle to ``direct``, in the caller.

        Called from the frame loop's task: ``direct`` runs in a copy of that
        task's context, so what it logs carries the connection's fields.
        """
        context = contextvars.copy_context()

        def in_context(text: str) -> Pending | None:
            return context.run(direct, text)

        self._direct = in_context

    def received(self, item: str | bytes | int) -> None:
        """Called by the server for every frame, and once with the close code at the end."""
        if self.ended:
            return
        queued: Item = item
        if type(item) is int:
            self.ended = True
        elif (
            self._waiter is not None
            and self._direct is not None
            and type(item) is str
            and not self._inbox
        ):
            pending = self._direct(item)
            if pending is None:
                return
            queued = pending
        elif len(self._inbox) >= self._max_pending:
            overflow, self._overflow = self._overflow, None
            if overflow is not None:
                overflow()
            return
        self._inbox.append(queued)
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
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None  # also when cancelled: nobody is waiting any more
        return inbox.popleft()
