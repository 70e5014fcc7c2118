"""What a load test counts, in a form that crosses process boundaries (plain dicts) and
merges: counters, gauges (last value per worker) and latency samples.

Samples are kept up to ``MAX_SAMPLES`` per series; beyond that a uniform reservoir
(Algorithm R), so a long run stays bounded in memory and its percentiles unbiased.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_SAMPLES = 200_000
SERIES = ("match_ms", "signal_ms", "chat_ms")
GAUGES = ("users", "connected", "waiting", "in_session")


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100); None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Reservoir:
    values: list[float] = field(default_factory=list)
    seen: int = 0

    def add(self, value: float, rng: random.Random) -> None:
        self.seen += 1
        if len(self.values) < MAX_SAMPLES:
            self.values.append(value)
            return
        slot = rng.randrange(self.seen)
        if slot < MAX_SAMPLES:
            self.values[slot] = value


@dataclass
class Tally:
    """One worker's (or, merged, the whole run's) figures."""

    counters: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: dict[str, Reservoir] = field(default_factory=lambda: {s: Reservoir() for s in SERIES})
    gauges: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GAUGES, 0))
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _fresh: dict[str, list[float]] = field(
        default_factory=lambda: {s: [] for s in SERIES}, repr=False
    )

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] += n

    def request(self, ok: bool, code: str = "") -> None:
        """One operation that can fail (a REST call, a socket open, an acked event)."""
        self.counters["requests"] += 1
        if not ok:
            self.errors[code or "error"] += 1

    def sample(self, series: str, value_ms: float) -> None:
        self.samples[series].add(value_ms, self._rng)
        self._fresh[series].append(value_ms)

    def gauge(self, name: str, delta: int) -> None:
        self.gauges[name] += delta

    # -- crossing processes: deltas since the last report ---------------------------

    def take_delta(self, last: dict[str, Any]) -> dict[str, Any]:
        """What changed since ``last`` (a previous :meth:`snapshot`), and new samples."""
        delta = {
            "counters": dict(self.counters - Counter(last.get("counters", {}))),
            "errors": dict(self.errors - Counter(last.get("errors", {}))),
            "samples": self._fresh,
            "gauges": dict(self.gauges),
        }
        self._fresh = {s: [] for s in SERIES}
        return delta

    def snapshot(self) -> dict[str, Any]:
        return {"counters": dict(self.counters), "errors": dict(self.errors)}

    def merge(self, delta: dict[str, Any]) -> None:
        self.counters.update(delta["counters"])
        self.errors.update(delta["errors"])
        for series, values in delta["samples"].items():
            for value in values:
                self.samples[series].add(value, self._rng)

    # -- figures ------------------------------------------------------------------------

    @property
    def error_rate(self) -> float:
        requests = self.counters["requests"]
        return sum(self.errors.values()) / requests if requests else 0.0

    def latency(self, series: str) -> dict[str, float | int | None]:
        values = self.samples[series].values
        return {
            "count": self.samples[series].seen,
            "p50": _round(percentile(values, 50)),
            "p95": _round(percentile(values, 95)),
            "p99": _round(percentile(values, 99)),
            "max": _round(max(values) if values else None),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
