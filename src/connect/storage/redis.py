"""The shared Redis connection of a node and the key prefix everything lives under.

One Redis (or a primary with replicas behind a failover proxy) holds the
ephemeral state of the whole cluster. Lua scripts touch keys derived inside
the script, so a Redis *Cluster* (sharded) deployment is not supported; a
single primary comfortably handles the matching and routing load of many
gateway nodes.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as redis
from limits.aio.storage import Storage
from limits.storage import storage_from_string
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

PREFIX = "connect:"

# What a lost, restarting or stalled Redis raises (``BusyLoadingError`` while it loads
# its data is a ``ConnectionError``): waited out and retried by callers that can wait,
# never a reason to log a Traceback.
UNREACHABLE: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    OSError,
    TimeoutError,
)


POOL_SIZE = 64


def connect(url: str) -> redis.Redis:
    """A client whose pool *waits* for a free connection under bursts instead of failing.

    A command that meets a broken connection reconnects and is sent once more: after
    Redis restarts, every pooled connection is dead, and without this each of them would
    fail one request before being replaced. Only connection errors are retried, not
    timeouts (a command that timed out against a stalled Redis may still run).
    """
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=10,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 1, (redis.ConnectionError,)),
    )
    return redis.Redis(connection_pool=pool)


def limits_storage(url: str, client: redis.Redis) -> Storage:
    """The ``limits`` library's asyncio Redis storage, sharing the node's connection pool."""
    options: dict[str, Any] = {
        "implementation": "redispy",
        "connection_pool": client.connection_pool,
    }
    storage = storage_from_string("async+" + url, **options)
    assert isinstance(storage, Storage)
    return storage
