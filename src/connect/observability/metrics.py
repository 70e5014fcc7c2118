"""The Prometheus metrics of one app instance.

Each app owns a registry (not the process-global one) so several apps can
live in one test process without their series colliding. Label values are
bounded sets (event names, error codes, modes) and never carry identifiers.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from connect.observability.tally import TallyCounter, TallyHistogram

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120)


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

    def render(self) -> bytes:
        return generate_latest(self.registry)
