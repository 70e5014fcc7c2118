"""The shared Redis connection of a node and the key prefix everything lives under.

One Redis primary holds the ephemeral state of the whole cluster: reached directly
(``CONNECT_REDIS_URL``) or found through Redis Sentinel (``CONNECT_REDIS_SENTINELS``),
which promotes a replica when the primary dies. Every connection then asks Sentinel
where the primary is when it (re)connects, so after a failover the pool, the pub/sub
subscription and the rate limiter all land on the promoted replica; to the rest of the
service a failover is a short Redis outage, healed as one (gateway/cluster/).

Lua scripts touch keys derived inside the script, so a Redis *Cluster* (sharded)
deployment is not supported; a single primary comfortably handles the matching and
routing load of many gateway nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis.asyncio as redis
from limits.aio.storage import Storage
from limits.storage import storage_from_string
from redis.asyncio.connection import SSLConnection, parse_url
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialBackoff

if TYPE_CHECKING:
    from connect.settings import Settings

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
CLIENT_NAME = "connect"


# How long one Sentinel may take to answer "where is the primary?" before the next is asked.
SENTINEL_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class SentinelConfig:
    """Where the Sentinels are and which primary (Sentinel's "master name") to follow."""

    addresses: tuple[tuple[str, int], ...]
    master: str
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(
        cls,
        sentinels: Sequence[str],
        master: str,
        username: str | None = None,
        password: str | None = None,
    ) -> SentinelConfig:
        """``host:port`` strings (``[v6]:port`` too) into addresses; a bad one is a ValueError."""
        return cls(tuple(parse_address(a) for a in sentinels), master, username, password)


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not a host:port address: {text!r}")
    return host, int(port)


class BlockingSentinelPool(SentinelConnectionPool, redis.BlockingConnectionPool):
    """Sentinel's pool (each new connection asks where the primary is, and a ``READONLY``
    answer from a demoted primary drops the connection) with the blocking pool's waiting
    for a free connection, as :func:`connect` gives without Sentinel.

    Also: a connection to any server but the primary last named is closed when it is
    handed out or given back. redis-py closes only the *idle* ones when the primary
    moves; one busy at that moment (waiting on a frozen primary) would come back to the
    pool still open to the old primary, and its next command would go there.
    """

    def _stale(self, connection: Any) -> bool:
        return bool(
            self.is_master
            and self.master_address is not None
            and connection.is_connected
            and (connection.host, connection.port) != self.master_address
        )

    async def ensure_connection(self, connection: Any) -> None:
        if self._stale(connection):
            await connection.disconnect()
        await super().ensure_connection(connection)

    async def release(self, connection: Any) -> None:
        if self._stale(connection):
            await connection.disconnect()
        await super().release(connection)


class SentinelRedis(redis.Redis):
    """A client of the primary that also closes its connections to the Sentinels."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        pool = self.connection_pool
        if isinstance(pool, SentinelConnectionPool):
            await pool.sentinel_manager.aclose()


def connect(
    url: str,
    sentinel: SentinelConfig | None = None,
    *,
    pool_size: int = POOL_SIZE,
    **options: Any,
) -> redis.Redis:
    """A client whose pool *waits* for a free connection under bursts instead of failing.

    A command that meets a broken connection reconnects and is sent once more: after
    Redis restarts, every pooled connection is dead, and without this each of them would
    fail one request before being replaced. Only connection errors are retried, not
    timeouts (a command that timed out against a stalled Redis may still run).

    With ``sentinel``, ``url`` gives only the database, username, password and TLS of
    the data nodes (its host is not used): the primary's address comes from Sentinel at
    every (re)connection. While no primary is known (between the old one's death and
    the promotion) a connection fails with ``MasterNotFoundError``, a ``ConnectionError``:
    callers wait it out exactly like an unreachable Redis.
    """
    kwargs: dict[str, Any] = {
        "max_connections": pool_size,
        "timeout": 10,
        "health_check_interval": 30,
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), 1, (redis.ConnectionError,)),
        # CLIENT LIST on any Redis tells Connect's connections from the rest (operators,
        # and the failover test checks none is left on a former primary).
        "client_name": CLIENT_NAME,
        **options,
    }
    if sentinel is None:
        return redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(url, **kwargs))
    node: dict[str, Any] = dict(parse_url(url))
    node.pop("host", None)
    node.pop("port", None)
    if node.pop("connection_class", None) is SSLConnection:
        node["ssl"] = True
    manager = Sentinel(  # type: ignore[no-untyped-call]
        list(sentinel.addresses),
        sentinel_kwargs={
            "socket_connect_timeout": SENTINEL_TIMEOUT_S,
            "socket_timeout": SENTINEL_TIMEOUT_S,
            "username": sentinel.username,
            "password": sentinel.password,
        },
    )
    client: redis.Redis = manager.master_for(
        sentinel.master,
        redis_class=SentinelRedis,
        connection_pool_class=BlockingSentinelPool,
        **node,
        **kwargs,
    )
    return client


async def current_primary(client: redis.Redis) -> tuple[str, int] | None:
    """Where Sentinel says the primary is now (None without Sentinel).

    Asking also re-points the pool: idle connections to a former primary are closed, and
    busy ones are closed when they are given back. Needed because a former primary that
    comes back (a thawed VM, a healed partition) still answers as primary until Sentinel
    demotes it, up to ~10 s later: connections opened before the failover would go on
    writing into it, and those writes are lost at the demotion. Raises
    ``MasterNotFoundError`` (a ``ConnectionError``) when no Sentinel names a primary.
    """
    pool = client.connection_pool
    if not isinstance(pool, SentinelConnectionPool):
        return None
    host, port = await pool.get_master_address()  # type: ignore[no-untyped-call]
    return str(host), int(port)


def sentinel_of(settings: Settings) -> SentinelConfig | None:
    if not settings.redis_sentinels:
        return None
    return SentinelConfig.parse(
        settings.redis_sentinels,
        settings.redis_sentinel_master,
        settings.redis_sentinel_username,
        settings.redis_sentinel_password,
    )


def client_for(settings: Settings, **options: Any) -> redis.Redis | None:
    """The Redis these settings point at (directly or through Sentinel); None without Redis.

    Every part of the service that opens a Redis connection goes through here, so none of
    them keeps talking to a dead or demoted primary after a failover."""
    if not settings.redis_url:
        return None
    return connect(settings.redis_url, sentinel_of(settings), **options)


def limits_storage(url: str, client: redis.Redis) -> Storage:
    """The ``limits`` library's asyncio Redis storage, sharing the node's connection pool
    (so it follows a Sentinel failover too). Only the URL's scheme is passed on: the
    pool says where Redis is, and ``limits`` refuses a location without a port."""
    options: dict[str, Any] = {
        "implementation": "redispy",
        "connection_pool": client.connection_pool,
    }
    scheme = url.split("://", 1)[0] if "://" in url else "redis"
    storage = storage_from_string(f"async+{scheme}://", **options)
    assert isinstance(storage, Storage)
    return storage
