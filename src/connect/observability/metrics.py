"""The Prometheus metrics of one app instance.

Each app owns a registry (not the process-global one) so several apps can
live in one test process without their series colliding. Label values are
bounded sets (event names, error codes, modes) and never carry identifiers.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from connect.framecheck.metrics import FrameMetrics
from connect.observability.tally import TallyCounter, TallyHistogram

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "Recount"]

WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120)
# Conversations last from a skip after seconds to calls of an hour or more.
DURATION_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)
PROBE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Recount:
    """A gauge whose value is a database count: recounted at most every ``max_age_s``, and
    on the next refresh after a change on this node (:meth:`changed`).

    Why not count on every scrape: two app nodes scraped every 15 s plus the housekeeping
    sweep every second would run the same COUNT(*) dozens of times a minute for a number
    that changes a few times an hour. Another node's changes show within ``max_age_s``.
    """

    def __init__(self, gauge: Gauge, max_age_s: float) -> None:
        self._gauge = gauge
        self._max_age_s = max_age_s
        self._counted_at = -math.inf

    def changed(self) -> None:
        self._counted_at = -math.inf

    async def refresh(self, count: Callable[[], Awaitable[int]], now: float) -> None:
        """``now`` is a monotonic reading (the app's injected clock)."""
        if now - self._counted_at < self._max_age_s:
            return
        self._gauge.set(await count())
        self._counted_at = now


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.connections = Gauge(
            "connect_connections_active", "Open gateway WebSocket connections", registry=r
        )
        self.suspended = Gauge(
            "connect_connections_suspended",
            "Clients whose socket dropped and whose place is held for resume",
            registry=r,
        )
        self.queue_waiting = Gauge(
            "connect_queue_waiting", "Visitors waiting to be matched", ["mode"], registry=r
        )
        self.sessions_live = Gauge("connect_sessions_live", "Live pairings", registry=r)
        # Series the frame loop and the matcher update, on the event loop thread only.
        self.matches = TallyCounter("connect_matches", "Pairs made", "mode", registry=r)
        self.match_wait = TallyHistogram(
            "connect_match_wait_seconds",
            "Time from joining the queue to being matched",
            "mode",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.relayed = TallyCounter(
            "connect_signaling_relayed", "Signaling and chat frames relayed", "type", registry=r
        )
        self.errors = Counter(
            "connect_errors", "Errors returned to clients, by code", ["code"], registry=r
        )
        self.sessions_ended = TallyCounter(
            "connect_sessions_ended", "Sessions ended, by reason", "reason", registry=r
        )
        self.call_stats = Counter(
            "connect_call_stats",
            "call-stats reports from clients",
            ["ice_state", "candidate_type"],
            registry=r,
        )
        self.resumes = Counter(
            "connect_resumes", "Connections that took their place back", registry=r
        )
        self.reports = Counter("connect_reports", "Reports filed", ["reason"], registry=r)
        self.calls = Counter("connect_calls", "Direct calls by outcome", ["status"], registry=r)
        self.messages = Counter("connect_channel_messages", "Contacts messages stored", registry=r)
        self.events_published = Counter(
            "connect_events_published", "Domain events delivered to the sink", ["sink"], registry=r
        )
        self.events_dropped = Counter(
            "connect_events_dropped",
            "Domain events dropped (buffer full or sink failing)",
            ["sink"],
            registry=r,
        )
        self.event_handling = TallyHistogram(
            "connect_event_handling_seconds",
            "Server time to handle one gateway event (decode to ack)",
            "event",
            buckets=(
                0.00005,
                0.0001,
                0.00025,
                0.0005,
                0.001,
                0.0025,
                0.005,
                0.01,
                0.025,
                0.05,
                0.1,
                0.5,
            ),
            registry=r,
        )
        self.http_requests = Counter(
            "connect_http_requests",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "connect_http_request_seconds", "HTTP request handling time", ["route"], registry=r
        )
        self.bans = Counter("connect_bans", "Bans issued", ["scope", "kind"], registry=r)
        self.captchas = Counter(
            "connect_captcha", "CAPTCHA challenges and outcomes", ["outcome"], registry=r
        )
        self.abuse_signals = Counter(
            "connect_abuse_signals", "Abuse signals raised", ["signal"], registry=r
        )

        # -- process, sessions, calls, moderation (issue 18: every SLO has its series) -----
        # process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds,
        # process_max_fds, ... and python_gc_*, python_info: the process-global registry
        # has them by default, an app's own registry only when asked.
        self.process = ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.session_duration = Histogram(
            "connect_session_duration_seconds",
            "Length of ended conversations: kind=strangers (random pairing) or call (contacts)",
            ["kind"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.calls_active = Gauge(
            "connect_calls_active", "Contacts calls answered and not yet ended", registry=r
        )
        self.reports_pending = Gauge(
            "connect_reports_pending",
            "Reports waiting for a moderator (recounted at most every 30 s, and after a change)",
            registry=r,
        )
        self.reports_pending_count = Recount(self.reports_pending, max_age_s=30.0)
        self.moderation_decisions = Counter(
            "connect_moderation_decisions",
            "Moderators' decisions: accepted/rejected (reports), appeal_accepted/appeal_rejected",
            ["outcome"],
            registry=r,
        )
        # -- TURN/STUN probe (connect.turn.probe) ---------------------------------------
        self.turn_up = Gauge(
            "connect_turn_up",
            "1 when the last probe of this STUN/TURN URL succeeded (binding or allocation)",
            ["url"],
            registry=r,
        )
        self.turn_probe_seconds = Histogram(
            "connect_turn_probe_seconds",
            "Time for a successful STUN binding or TURN allocate-and-release",
            ["url"],
            buckets=PROBE_BUCKETS,
            registry=r,
        )
        self.turn_probe_latency = Gauge(
            "connect_turn_probe_latency_seconds",
            "Latency of the last successful probe of this URL",
            ["url"],
            registry=r,
        )
        self.turn_probe_failures = Counter(
            "connect_turn_probe_failures",
            "Failed probes: reason=auth_failed|unreachable|rejected|error",
            ["url", "reason"],
            registry=r,
        )
        # -- frame moderation (connect.framecheck.metrics), one attribute per series --------
        self.framecheck = FrameMetrics(r)
        self.framecheck_frames = self.framecheck.frames
        self.framecheck_latency = self.framecheck.latency
        self.framecheck_queue = self.framecheck.queue
        self.framecheck_auto_reports = self.framecheck.auto_reports
        self.framecheck_actions = self.framecheck.actions
        self.framecheck_false_positives = self.framecheck.false_positives
        # -- compiled hot paths (connect.compiled) -------------------------------------------
        self.compiled_modules = Gauge(
            "connect_compiled_modules",
            "Hot-path modules this process runs as compiled extensions (0: all pure Python)",
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
