"""The object graph of one running node, built once from settings.

Everything a route or socket handler needs hangs off :class:`Services`; the
FastAPI dependencies and the gateway read it from here. Tests build it with a
:class:`~connect.clock.FakeClock` to drive time.
"""

from __future__ import annotations

from dataclasses import dataclass

from connect.clock import Clock
from connect.gateway.dispatch import Router
from connect.gateway.endpoint import GatewayEndpoint
from connect.gateway.hub import Hub
from connect.identity.service import IpHasher, TokenService
from connect.matching import events as matching_events
from connect.matching.rules import MatchPolicy
from connect.matching.service import MatchingService
from connect.matching.store import MemoryMatchStore
from connect.moderation.service import ReportService
from connect.moderation.store import SqlReportStore
from connect.observability.metrics import Metrics
from connect.ratelimit import RateLimiter, Rule
from connect.sessions.service import SessionService
from connect.sessions.store import MemorySessionStore
from connect.settings import Settings
from connect.signaling import events as signaling_events
from connect.signaling.service import RelayService
from connect.signaling.textfilter import TextFilter
from connect.storage.db import Database
from connect.turn.service import TurnService


@dataclass(frozen=True, slots=True)
class Rules:
    token: Rule
    hello: Rule
    join: Rule
    report: Rule
    chat: Rule

    @classmethod
    def from_settings(cls, s: Settings) -> Rules:
        return cls(
            token=Rule.parse("token", s.rate_token),
            hello=Rule.parse("hello", s.rate_hello),
            join=Rule.parse("join", s.rate_join),
            report=Rule.parse("report", s.rate_report),
            chat=Rule.parse("chat", s.rate_chat),
        )


@dataclass(slots=True)
class Services:
    settings: Settings
    clock: Clock
    metrics: Metrics
    db: Database
    limiter: RateLimiter
    rules: Rules
    tokens: TokenService
    ip_hasher: IpHasher
    turn: TurnService
    sessions: SessionService
    matching: MatchingService
    relay: RelayService
    reports: ReportService
    hub: Hub
    router: Router
    gateway: GatewayEndpoint


def build_services(settings: Settings, clock: Clock) -> Services:
    metrics = Metrics()
    db = Database(settings.sqlalchemy_url)
    limiter = RateLimiter()
    rules = Rules.from_settings(settings)
    tokens = TokenService(settings.jwt_secret, clock, settings.guest_token_ttl_s)
    ip_hasher = IpHasher(settings.ip_hash_salt)
    turn = TurnService(
        settings.turn_secret, settings.turn_urls, settings.stun_urls, settings.turn_ttl_s, clock
    )
    hub = Hub(settings.resume_grace_s, settings.resume_buffer_frames, metrics)
    sessions = SessionService(MemorySessionStore(), clock, settings.session_record_ttl_s)
    policy = MatchPolicy(
        allow_same_ip=settings.match_allow_same_ip,
        interest_widen_s=settings.match_interest_widen_s,
        region_widen_s=settings.match_region_widen_s,
        language_widen_s=settings.match_language_widen_s,
        recent_pair_s=settings.match_recent_pair_s,
    )
    matching = MatchingService(
        store=MemoryMatchStore(),
        sessions=sessions,
        deliverer=hub,
        turn=turn,
        policy=policy,
        clock=clock,
        metrics=metrics,
    )
    relay = RelayService(
        sessions=sessions,
        deliverer=hub,
        text_filter=TextFilter.from_settings(
            settings.text_filter_words_file, settings.text_filter_words
        ),
        clock=clock,
        metrics=metrics,
    )
    reports = ReportService(SqlReportStore(db), sessions, clock, metrics)
    hub.subscribe(matching)
    router = Router()
    matching_events.register(router, matching, limiter, rules.join)
    signaling_events.register(router, relay, matching, limiter, rules.chat)
    gateway = GatewayEndpoint(
        settings=settings,
        hub=hub,
        router=router,
        tokens=tokens,
        ip_hasher=ip_hasher,
        limiter=limiter,
        metrics=metrics,
        clock=clock,
    )
    return Services(
        settings=settings,
        clock=clock,
        metrics=metrics,
        db=db,
        limiter=limiter,
        rules=rules,
        tokens=tokens,
        ip_hasher=ip_hasher,
        turn=turn,
        sessions=sessions,
        matching=matching,
        relay=relay,
        reports=reports,
        hub=hub,
        router=router,
        gateway=gateway,
    )
