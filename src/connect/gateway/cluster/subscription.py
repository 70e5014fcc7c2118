"""This node's pub/sub subscription: one dedicated Redis connection read by an asyncio
protocol that parses every message a read brings with ``hiredis.Reader``.

Why not redis-py's ``PubSub``: ``get_message`` is one coroutine call per message (a
read through ``StreamReader``, a timeout context, the parser, a dict built per message),
22-24 µs of a node's CPU each (docs/benchmarks.md, "Scale-out"), and a receiving node
makes one per frame that crosses to it. Here ``data_received`` feeds what the socket
gave into the reader and hands each complete message to ``on_message`` at once, in the
order Redis sent them, in the same callback: no task, future or timer per message.

The connection itself is opened by redis-py (``pool.make_connection()``, ``connect()``),
so it is made exactly like every other connection of the node: through Sentinel to the
current primary, with the URL's TLS, username, password and database, and the client
name ``connect``. Then its transport is taken over by :class:`Subscription` and
``SUBSCRIBE`` is sent on it; redis-py's connection object lets go of its streams (two
private attributes, ``_reader`` and ``_writer``, which redis-py's asyncio connection
has had since it was aioredis: tests/cluster exercise this path on every start). The connection does
not reconnect by itself: when it breaks, :meth:`Subscription.wait` raises and the
listener (:mod:`connect.gateway.cluster.routing`) counts a loss and subscribes again,
which the node reconciles.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import hiredis
import redis.asyncio as redis

# When the connection has been silent this long a PING is sent (as redis-py's health
# check did every 30 s), so a connection a middlebox forgot is found broken.
IDLE_PING_S = 30.0
SUBSCRIBE_TIMEOUT_S = 5.0
FIRST = asyncio.FIRST_COMPLETED


def command(*args: str | bytes | int) -> bytes:
    """One command in RESP (the form every Redis accepts from a client)."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


async def take_over(
    client: redis.Redis, protocol: asyncio.Protocol
) -> tuple[asyncio.Transport, Any, tuple[str, int]]:
    """A new connection made as ``client``'s pool makes them (Sentinel, TLS, AUTH,
    SELECT, client name), handed to ``protocol``: its transport, the stream writer to
    keep alive as long as it is used, and the server's (host, port)."""
    pool: Any = client.connection_pool
    conn: Any = pool.make_connection()
    await conn.connect()
    writer = getattr(conn, "_writer", None)
    if writer is None:  # pragma: no cover - a redis-py without a stream writer
        raise RuntimeError("redis-py's connection has no stream writer to take over")
    transport: Any = writer.transport
    # The connection object no longer owns the socket: without this, collecting it
    # would close the transport (redis-py's ``__del__``); the stream writer is kept
    # for the same reason (asyncio's ``StreamWriter.__del__`` closes it too).
    conn._writer = conn._reader = None
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    # A Unix socket (``unix://``) has no host and port; only Sentinel's checks read them.
    return transport, writer, (str(getattr(conn, "host", "")), int(getattr(conn, "port", 0)))


class Subscription(asyncio.Protocol):
    """A subscribed connection: each message to one of ``channels`` is passed to
    ``on_message(channel, data)`` (both bytes) from the read callback, in order.

    ``on_message`` must not raise (the caller logs its own failures); a reply that is
    not a message (a confirmation, a ``PONG``) is consumed here.
    """

    def __init__(self, on_message: Callable[[bytes, bytes], None]) -> None:
        self._on_message = on_message
        self._reader = hiredis.Reader()
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[bytes] = deque()  # channels whose confirmation is due
        self._subscribed: asyncio.Future[None] | None = None
        self._lost: asyncio.Future[None] | None = None
        self._wake: asyncio.Future[None] | None = None
        self._writer: Any = None  # redis-py's stream writer, kept alive (see :meth:`open`)
        self._heard_at = time.monotonic()
        self.address: tuple[str, int] | None = None  # the server (host, port) it is on

    @classmethod
    async def open(
        cls,
        client: redis.Redis,
        channels: list[str],
        on_message: Callable[[bytes, bytes], None],
    ) -> Subscription:
        """Connect as ``client``'s pool connects, subscribe to ``channels`` and return once
        Redis confirmed every one. Raises what an unreachable Redis raises (a
        ``ConnectionError``, ``OSError``, ``TimeoutError``)."""
        loop = asyncio.get_running_loop()
        self = cls(on_message)
        self._lost = loop.create_future()
        self._subscribed = loop.create_future()
        transport, self._writer, self.address = await take_over(client, self)
        try:
            self._waiting.extend(c.encode() for c in channels)
            transport.write(command("SUBSCRIBE", *channels))
            lost = self._lost
            done, _ = await asyncio.wait(
                (self._subscribed, lost),
                timeout=SUBSCRIBE_TIMEOUT_S,
                return_when=FIRST,
            )
            if self._subscribed not in done:
                if lost.done() and lost.exception() is not None:
                    raise lost.exception()  # type: ignore[misc]
                raise TimeoutError("no confirmation of SUBSCRIBE")
        except BaseException:
            self.close()
            raise
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self._heard_at = time.monotonic()
        reader = self._reader
        try:
            reader.feed(data)
            reply = reader.gets()
            while reply is not False:
                if isinstance(reply, list) and reply[0] == b"message":
                    self._on_message(reply[1], reply[2])
                else:
                    self._control(reply)
                reply = reader.gets()
        except hiredis.ProtocolError as exc:
            self._fail(redis.ConnectionError(f"pub/sub protocol error: {exc}"))

    def _control(self, reply: Any) -> None:
        """A reply that is not a message: a ``SUBSCRIBE`` confirmation, a ``PONG``, or an
        error (a command refused: the connection is given up)."""
        if isinstance(reply, hiredis.ReplyError):
            self._fail(redis.ConnectionError(f"pub/sub refused: {reply}"))
        elif isinstance(reply, list) and reply[0] == b"subscribe" and self._waiting:
            if reply[1] == self._waiting[0]:
                self._waiting.popleft()
            done = self._subscribed
            if not self._waiting and done is not None and not done.done():
                done.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        if self._lost is not None and not self._lost.done():
            self._lost.set_exception(exc)
        if self._transport is not None:
            self._transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lost is not None and not self._lost.done():
            self._lost.set_exception(redis.ConnectionError(f"pub/sub connection lost: {exc}"))

    async def wait(self, timeout: float) -> None:
        """Return after ``timeout`` seconds or once :meth:`wake` is called; raise
        ``ConnectionError`` as soon as the connection is lost. Sends a PING when nothing
        was heard for ``IDLE_PING_S``."""
        lost = self._lost
        assert lost is not None
        if not lost.done():
            wake = self._wake = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait((lost, wake), timeout=timeout, return_when=FIRST)
            finally:
                self._wake = None
                wake.cancel()
        if lost.done():
            lost.result()  # raises the loss; None once closed here
            raise redis.ConnectionError("pub/sub connection closed")
        if time.monotonic() - self._heard_at > IDLE_PING_S and self._transport is not None:
            self._heard_at = time.monotonic()
            self._transport.write(command("PING"))

    def wake(self) -> None:
        """End the current :meth:`wait` early (a message needs the listener's task)."""
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def close(self) -> None:
        """Close the connection (no loss is reported for it)."""
        if self._lost is not None:
            if not self._lost.done():
                self._lost.set_result(None)
            else:
                self._lost.exception()  # a loss nobody waited for is not logged as unread
        if self._transport is not None:
            self._transport.close()
