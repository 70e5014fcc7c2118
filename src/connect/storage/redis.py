"""The shared Redis connection of a node and the key prefix everything lives under.

One Redis (or a primary with replicas behind a failover proxy) holds the
ephemeral state of the whole cluster. Lua scripts touch keys derived inside
the script, so a Redis *Cluster* (sharded) deployment is not supported; a
single primary comfortably handles the matching and routing load of many
gateway nodes.
"""

from __future__ import annotations

import redis.asyncio as redis
from limits.aio.storage import Storage
from limits.storage import storage_from_string

PREFIX = "connect:"


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=False, health_check_interval=30)


def limits_storage(url: str) -> Storage:
    """The ``limits`` library's asyncio Redis storage on the same server, for shared buckets."""
    storage = storage_from_string("async+" + url, implementation="redispy")
    assert isinstance(storage, Storage)
    return storage
