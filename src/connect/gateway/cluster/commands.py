"""The outbox's own Redis connection: pipelines of ``ROUTE`` calls written as one
buffer of RESP and their replies parsed by ``hiredis.Reader`` in the read callback.

Why not a redis-py pipeline: per batch it takes a connection from the pool and gives it
back, builds a pipeline object, encodes every argument of every command on its own,
and reads each reply through a coroutine with a timeout context; for the one or two
lines a loop turn holds at 2,000 lines/s over three nodes that was most of what the
outbox cost a node besides the socket write (py-spy, docs/benchmarks.md "Scale-out").

Only the outbox uses it, one batch at a time, so replies simply come back in the order
the batch was written. The connection is made by redis-py as every other connection of
the node is (:func:`~connect.gateway.cluster.subscription.take_over`). It does not
reconnect by itself: a batch on a connection that breaks fails with ``ConnectionError``
and the outbox retries it on a new one (its calls carry source sequence numbers, so a
retried call that had already run is not run twice).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import hiredis
import redis.asyncio as redis

from connect.gateway.cluster.subscription import take_over


class CommandLink(asyncio.Protocol):
    """Batches of commands and their replies, in order, on one connection."""

    def __init__(self) -> None:
        self._reader = hiredis.Reader()
        self._transport: Any = None
        self._writer: Any = None  # kept alive with the transport (see ``take_over``)
        self._pending: deque[tuple[asyncio.Future[list[Any]], int, list[Any]]] = deque()
        self.closed = False
        self.address: tuple[str, int] | None = None

    @classmethod
    async def open(cls, client: redis.Redis) -> CommandLink:
        self = cls()
        _, self._writer, self.address = await take_over(client, self)
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def run(self, packed: bytes, count: int) -> asyncio.Future[list[Any]]:
        """Write ``count`` commands already in RESP; the future is their ``count`` replies
        (an error reply is a ``hiredis.ReplyError`` in the list, not raised)."""
        if self.closed:
            raise redis.ConnectionError("outbox connection closed")
        done: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((done, count, []))
        self._transport.write(packed)
        return done

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        pending = self._pending
        try:
            reader.feed(data)
            reply = reader.gets()
            while reply is not False:
                if not pending:
                    raise hiredis.ProtocolError("a reply to no command")
                done, count, replies = pending[0]
                replies.append(reply)
                if len(replies) == count:
                    pending.popleft()
                    if not done.done():
                        done.set_result(replies)
                reply = reader.gets()
        except hiredis.ProtocolError as exc:
            self._fail(redis.ConnectionError(f"outbox protocol error: {exc}"))
            self._transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(redis.ConnectionError(f"outbox connection lost: {exc}"))

    def _fail(self, exc: BaseException) -> None:
        self.closed = True
        while self._pending:
            done, _, _ = self._pending.popleft()
            if not done.done():
                done.set_exception(exc)

    def close(self) -> None:
        self._fail(redis.ConnectionError("outbox connection closed"))
        if self._transport is not None:
            self._transport.close()
