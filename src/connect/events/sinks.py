"""Where domain events go: nowhere, the log, Redis Streams, NATS JetStream (or Kafka).

Every sink takes a batch and either stores all of it or raises; the
publisher decides about retries and drops. The Kafka sink exists for sites
that run a broker, but no Kafka broker can run on the machines this project
is developed and tested on: it is **untested here** and says so at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import orjson
import structlog

from connect.events.schemas import DomainEvent

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = structlog.get_logger(__name__)


class Sink(Protocol):
    name: str

    async def start(self) -> None: ...

    async def send(self, batch: Sequence[DomainEvent]) -> None: ...

    async def close(self) -> None: ...


class NullSink:
    name = "none"

    async def start(self) -> None:
        return None

    async def send(self, batch: Sequence[DomainEvent]) -> None:
        return None

    async def close(self) -> None:
        return None


class LogSink:
    name = "log"

    async def start(self) -> None:
        return None

    async def send(self, batch: Sequence[DomainEvent]) -> None:
        for event in batch:
            log.info("domain_event", **event.wire())

    async def close(self) -> None:
        return None


class RedisStreamSink:
    """XADD to one stream, trimmed approximately to ``maxlen`` entries."""

    name = "redis"

    def __init__(
        self, url: str, stream: str, maxlen: int = 1_000_000, client: Redis | None = None
    ) -> None:
        import redis.asyncio as redis

        self._redis = client if client is not None else redis.Redis.from_url(url)
        self.stream = stream
        self._maxlen = maxlen

    async def start(self) -> None:
        await self._redis.ping()

    async def send(self, batch: Sequence[DomainEvent]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in batch:
                pipe.xadd(
                    self.stream,
                    {"type": event.type, "event": orjson.dumps(event.wire())},
                    maxlen=self._maxlen,
                    approximate=True,
                )
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()


class NatsJetStreamSink:
    """Publish to ``<subject_prefix>.<event type>`` on a JetStream stream (created if missing)."""

    name = "nats"

    def __init__(self, url: str, stream: str, subject_prefix: str = "connect.events") -> None:
        self._url = url
        self.stream = stream
        self.prefix = subject_prefix
        self._nc: object | None = None
        self._js: object | None = None

    async def start(self) -> None:
        import nats
        from nats.js.errors import NotFoundError

        nc = await nats.connect(self._url, connect_timeout=5, max_reconnect_attempts=-1)
        js = nc.jetstream()
        try:
            await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(name=self.stream, subjects=[f"{self.prefix}.>"])
        self._nc, self._js = nc, js

    async def send(self, batch: Sequence[DomainEvent]) -> None:
        from nats.js.client import JetStreamContext

        js = self._js
        assert isinstance(js, JetStreamContext), "start() first"
        for event in batch:
            await js.publish(f"{self.prefix}.{event.type}", orjson.dumps(event.wire()), timeout=5)

    async def close(self) -> None:
        from nats.aio.client import Client

        if isinstance(self._nc, Client):
            await self._nc.drain()


class KafkaSink:
    """UNTESTED HERE: needs ``aiokafka`` and a broker, neither available on the dev/CI machines."""

    name = "kafka"

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self.topic = topic
        self._producer: object | None = None

    async def start(self) -> None:
        log.warning(
            "kafka_sink_untested", detail="the Kafka sink has never run against a broker in CI"
        )
        try:
            from aiokafka import AIOKafkaProducer  # type: ignore[import-not-found]
        except ImportError as exc:
            raise RuntimeError("CONNECT_EVENT_SINK=kafka needs `pip install aiokafka`") from exc
        producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap)
        await producer.start()
        self._producer = producer

    async def send(self, batch: Sequence[DomainEvent]) -> None:
        producer = self._producer
        assert producer is not None, "start() first"
        for event in batch:
            await producer.send_and_wait(self.topic, orjson.dumps(event.wire()))  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()  # type: ignore[attr-defined]
