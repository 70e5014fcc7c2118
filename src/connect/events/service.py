"""Publishing domain events without ever slowing or breaking the hot path.

``publish`` only appends to a bounded in-memory queue (O(1), never awaits);
a background task drains it in batches to the configured sink. When the
sink is slow or down the queue fills and further events are *dropped* and
counted (``connect_events_dropped_total``) rather than buffered without
bound; a failing batch is retried with exponential backoff (up to 30 s)
and dropped after ``MAX_ATTEMPTS`` so one bad event cannot wedge the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from typing import Any, Protocol

import structlog

from connect import ids
from connect.clock import Clock, utc_now
from connect.events.schemas import DomainEvent, EventType
from connect.events.sinks import Sink
from connect.observability.metrics import Metrics

log = structlog.get_logger(__name__)
BATCH = 100
MAX_ATTEMPTS = 5


class EventPublisher:
    def __init__(self, sink: Sink, clock: Clock, metrics: Metrics, capacity: int) -> None:
        self.sink = sink
        self._clock = clock
        self._metrics = metrics
        self._queue: deque[DomainEvent] = deque()
        self._capacity = capacity
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.node = socket.gethostname()
        self._sink_started = False
        self._published = metrics.events_published.labels(sink.name)
        self._dropped = metrics.events_dropped.labels(sink.name)

    def publish(self, type_: EventType, **data: Any) -> None:
        if self.sink.name == "none":
            return
        if len(self._queue) >= self._capacity:
            self._dropped.inc()
            return
        self._queue.append(
            DomainEvent(
                id=ids.uuid4_hex(),
                type=type_,
                at=utc_now(self._clock),
                node=self.node,
                data=data,
            )
        )
        self._wake.set()

    async def start(self) -> None:
        """Start draining. The sink connects lazily: a sink that is down at start-up costs
        dropped events, never a node that refuses to start."""
        self._task = asyncio.get_running_loop().create_task(self._drain())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            if self._sink_started:
                await self._flush_once()
        if self._sink_started:
            await self.sink.close()

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                await self._flush_once(retry=True)

    async def _flush_once(self, retry: bool = False) -> None:
        batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
        if not batch:
            return
        delay = 0.5
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if not self._sink_started:
                    await self.sink.start()
                    self._sink_started = True
                await self.sink.send(batch)
            except Exception as exc:
                log.warning(
                    "event_sink_failed",
                    sink=self.sink.name,
                    attempt=attempt,
                    error=type(exc).__name__,
                )
                if not retry or attempt == MAX_ATTEMPTS:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            else:
                self._published.inc(len(batch))
                return
        self._dropped.inc(len(batch))


class Publisher(Protocol):
    def publish(self, type_: EventType, **data: Any) -> None: ...


class NoEvents:
    """The publisher of services built without an event stream (tests, tools)."""

    def publish(self, type_: EventType, **data: Any) -> None:
        return None


NO_EVENTS = NoEvents()
