"""Frame moderation's Prometheus series, on the app's registry.

:class:`connect.observability.metrics.Metrics` builds one and exposes each
series as an attribute too (deploy/ tests read the names from there).

Labels are bounded: outcomes, actions, and the classifier's label names (a
fixed list per classifier), never a session or a device.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10)


class FrameMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.frames = Counter(
            "connect_framecheck_frames",
            "Sampled frames by outcome: received (accepted by the route), classified, "
            "dropped (queue full), timeout, failed (undecodable or the worker failed)",
            ["outcome"],
            registry=r,
        )
        for outcome in ("received", "classified", "dropped", "timeout", "failed"):
            self.frames.labels(outcome)
        self.latency = Histogram(
            "connect_framecheck_classify_seconds",
            "Time from a frame's arrival to its scores (queue wait plus inference)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue = Gauge(
            "connect_framecheck_queue", "Frames waiting for a classifier worker", registry=r
        )
        self.auto_reports = Counter(
            "connect_framecheck_auto_reports",
            "Automatic reports filed, by the top flagged label",
            ["label"],
            registry=r,
        )
        self.actions = Counter(
            "connect_framecheck_actions",
            "Actions taken on a hit: hide (video-hidden/video-flagged), ban, escalate",
            ["action", "label"],
            registry=r,
        )
        self.false_positives = Counter(
            "connect_framecheck_false_positives",
            "Automatic reports moderators marked wrong, by the top flagged label",
            ["label"],
            registry=r,
        )
