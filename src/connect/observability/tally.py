"""Counters and histograms for the per-frame path, read by Prometheus at scrape time.

prometheus_client's own types take a ``threading.Lock`` on every ``inc`` and
walk the bucket list in Python on every ``observe``: about a microsecond per
relayed frame for the three series the frame loop touches, measured as 15%
of the chat handler's time (docs/benchmarks.md). Everything that updates
these runs on the event loop thread, so plain numbers suffice; a
collector registered with the app's registry turns them into the usual
counter and histogram families when ``/metrics`` is read, under the same
names and labels as before.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class TallyCount:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self) -> None:
        self.value += 1


class TallyCounter(Collector):
    """A counter with one label, for code that runs on the event loop thread only."""

    kind = "counter"

    def __init__(self, name: str, doc: str, label: str, registry: CollectorRegistry) -> None:
        self.name = name
        self.label_names = (label,)
        self._doc = doc
        self._label = label
        self._children: dict[str, TallyCount] = {}
        registry.register(self)

    def labels(self, value: str) -> TallyCount:
        child = self._children.get(value)
        if child is None:
            child = self._children[value] = TallyCount()
        return child

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self._doc, labels=[self._label])
        for value, child in sorted(self._children.items()):
            family.add_metric([value], child.value)
        yield family


class TallyTimes:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.sum += seconds


class TallyHistogram(Collector):
    """A histogram with one label (``le`` buckets as Prometheus defines them), loop thread only."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        doc: str,
        label: str,
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self.name = name
        self.label_names = (label,)
        self._doc = doc
        self._label = label
        self._bounds = tuple(sorted(buckets))
        self._children: dict[str, TallyTimes] = {}
        registry.register(self)

    def labels(self, value: str) -> TallyTimes:
        child = self._children.get(value)
        if child is None:
            child = self._children[value] = TallyTimes(self._bounds)
        return child

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self._doc, labels=[self._label])
        for value, child in sorted(self._children.items()):
            running = 0
            buckets: list[tuple[str, float]] = []
            for bound, n in zip((*self._bounds, float("inf")), child.counts, strict=True):
                running += n
                le: str = floatToGoString(bound)  # type: ignore[no-untyped-call]
                buckets.append((le, running))
            family.add_metric([value], buckets, child.sum)
        yield family
