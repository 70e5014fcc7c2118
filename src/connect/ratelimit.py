"""Rate limits on every entry point.

Three mechanisms, chosen by cost and by whether the state must be shared:

* :class:`SharedRateLimiter` wraps the ``limits`` library (sliding-window
  counters in its Redis storage) for entry points keyed by something that
  outlives one connection, when several nodes must share the count: token
  requests and hellos per IP hash, joins per device, reports per device.
* :class:`MemoryRateLimiter` is the same rules on one node: a
  :class:`LocalLimit` per (rule, key) in a dict. It replaces ``limits``'
  ``memory://`` storage, whose expiry task walks every key it holds (and
  hands each to a thread) again as soon as the previous walk ends while
  hits keep coming: measured as the largest single cost in the churn
  benchmark once thousands of devices had keys. Here a key costs one dict
  entry and expiry is one walk per housekeeping pass (:meth:`prune`).
* :class:`TokenBucket` is the per-connection frame budget. It is checked on
  every inbound frame, where ``limits`` measured 11-14 µs per hit here
  (about 40% of a whole relay's budget); its state belongs to one socket and
  dies with it, so nothing needs sharing. The bucket holds up to ``burst``
  tokens and refills at ``rate`` per second; a frame costs one token.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

import limits
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from connect.clock import Clock
from connect.errors import rate_limited


@dataclass(frozen=True)
class Rule:
    """A named set of limits, e.g. ``Rule("chat", "5/second;60/minute")``."""

    name: str
    items: tuple[limits.RateLimitItem, ...]

    @classmethod
    def parse(cls, name: str, spec: str) -> Rule:
        return cls(name, tuple(limits.parse_many(spec)))


class RateLimiter(Protocol):
    async def hit(self, rule: Rule, key: str) -> None:
        """Count one event for ``key``; raise ``rate_limited`` when any limit is exceeded."""
        ...

    def prune(self) -> int:
        """Forget keys whose limits have filled up again; return how many (housekeeping)."""
        ...


class MemoryRateLimiter:
    """One node's limits: a :class:`LocalLimit` per (rule name, key), on the injected clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._limits: dict[tuple[str, str], LocalLimit] = {}

    async def hit(self, rule: Rule, key: str) -> None:
        limit = self._limits.get((rule.name, key))
        if limit is None:
            limit = self._limits[(rule.name, key)] = LocalLimit(rule, self._clock)
        limit.hit()

    def prune(self) -> int:
        idle = [key for key, limit in self._limits.items() if limit.full()]
        for key in idle:
            del self._limits[key]
        return len(idle)


class SharedRateLimiter:
    """The rules in a ``limits.aio`` storage that several nodes share (Redis)."""

    def __init__(self, storage: Storage) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    def prune(self) -> int:
        return 0  # the storage expires its own keys

    async def hit(self, rule: Rule, key: str) -> None:
        """Count one event for ``key``; raise ``rate_limited`` when any limit is exceeded.

        All limits of the rule are tested before any is charged, so a refused
        event does not eat into the longer windows. A rule of one limit needs
        no separate test: ``limits`` refuses a hit over the limit without
        charging it, so it takes one storage round trip instead of two.
        """
        if len(rule.items) == 1:
            item = rule.items[0]
            if not await self._limiter.hit(item, rule.name, key):
                await self._refuse(rule, item, key)
            return
        for item in rule.items:
            if not await self._limiter.test(item, rule.name, key):
                await self._refuse(rule, item, key)
        for item in rule.items:
            await self._limiter.hit(item, rule.name, key)

    async def _refuse(self, rule: Rule, item: limits.RateLimitItem, key: str) -> None:
        stats = await self._limiter.get_window_stats(item, rule.name, key)
        retry_ms = max(1, math.ceil((stats.reset_time - time.time()) * 1000))
        raise rate_limited(retry_ms, f"too many {rule.name} requests")


class LocalLimit:
    """A ``limits``-notation rule evaluated in process, one token bucket per window.

    For limits whose key is one connection (chat lines per connection): the
    state lives and dies with the connection, needs no sharing between nodes,
    and checking it costs well under a microsecond instead of a storage
    round trip per chat line (measured: the ``limits`` memory storage was 17%
    of the server's CPU in the chat ping-pong benchmark). Each item "N per
    T seconds" becomes a bucket of N tokens refilled at N/T per second.
    """

    __slots__ = ("_buckets", "_last", "_now", "name")

    def __init__(self, rule: Rule, clock: Clock) -> None:
        self.name = rule.name
        self._now = clock.monotonic
        # [refill rate per second, capacity, tokens now], one per window of the rule
        self._buckets = [
            [item.amount / item.get_expiry(), float(item.amount), float(item.amount)]
            for item in rule.items
        ]
        self._last = self._now()

    def hit(self) -> None:
        """Spend one token of every bucket, or none and raise ``rate_limited``.

        The buckets are refilled together (they share the time of the last
        hit), then the hit passes only if each holds a whole token. This runs
        for every chat line, so it is written out with plain comparisons.
        """
        now = self._now()
        elapsed = now - self._last
        self._last = now
        wait = 0.0
        for bucket in self._buckets:
            rate, capacity, level = bucket
            level += elapsed * rate
            if level > capacity:
                level = capacity
            bucket[2] = level
            if level < 1.0 and (1.0 - level) / rate > wait:
                wait = (1.0 - level) / rate
        if wait:
            raise rate_limited(max(1, math.ceil(wait * 1000)), f"too many {self.name} requests")
        for bucket in self._buckets:
            bucket[2] -= 1.0

    def full(self) -> bool:
        """Every bucket has refilled: forgetting this limit changes nothing."""
        elapsed = self._now() - self._last
        return all(level + elapsed * rate >= capacity for rate, capacity, level in self._buckets)


class TokenBucket:
    """Per-connection frame budget: ``burst`` frames at once, ``rate`` per second sustained."""

    __slots__ = ("_last", "_now", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, clock: Clock) -> None:
        self.rate = rate
        self.burst = burst
        self._now = clock.monotonic
        self._tokens = burst
        self._last = self._now()

    def take(self) -> float:
        """Spend one token. Return 0 when allowed, else the seconds until one is available."""
        now = self._now()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate
