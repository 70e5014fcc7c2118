"""Injectable time.

Every rule that depends on time (token expiry, queue widening, resume grace,
recent-pair memory) reads it from a :class:`Clock` handed in at construction,
so tests move time forward with :class:`FakeClock` instead of sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (wall clock, for timestamps shown to people)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards (for durations)."""
        ...


def utc_now(clock: Clock) -> datetime:
    """``clock``'s wall time as an aware UTC datetime (for stored and sent timestamps)."""
    return datetime.fromtimestamp(clock.now(), UTC)


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to; both readings advance together."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._mono = 1000.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._mono += seconds
