"""The object graph of one running node, built once from settings.

Why one ~470-line module (over 400 lines on purpose): it is wiring only, one
constructor call per service in the order they depend on each other; split up,
that order would be hidden.

Everything a route or socket handler needs hangs off :class:`Services`; the
FastAPI dependencies and the gateway read it from here. Tests build it with a
:class:`~connect.clock.FakeClock` to drive time.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass

from redis.asyncio import Redis

from connect.calls.service import CallService
from connect.calls.store import CallStore
from connect.clock import Clock
from connect.contacts import events as contacts_events
from connect.contacts.service import ContactsService
from connect.contacts.store import ContactStore
from connect.events.service import EventPublisher
from connect.events.sinks import (
    KafkaSink,
    LogSink,
    NatsJetStreamSink,
    NullSink,
    RedisStreamSink,
    Sink,
)
from connect.framecheck.service import FrameCheckService
from connect.gateway.cluster import Cluster
from connect.gateway.dispatch import Router
from connect.gateway.endpoint import GatewayEndpoint
from connect.gateway.hub import Hub
from connect.gateway.websocket import WebSocketEngine
from connect.geo.service import GeoService
from connect.identity.accounts import AccountService, LiveLogins
from connect.identity.mail import build_mailer
from connect.identity.passwords import Passwords
from connect.identity.privacy import PrivacyService
from connect.identity.privacy_store import PrivacyStore
from connect.identity.service import IpHasher, TokenService
from connect.identity.store import AccountStore, PasswordResetStore, RefreshTokenStore
from connect.matching import events as matching_events
from connect.matching.redis_store import RedisMatchStore
from connect.matching.rules import MatchPolicy
from connect.matching.service import Counter, MatchingService
from connect.matching.store import MatchStore, MemoryMatchStore
from connect.moderation import events as moderation_events
from connect.moderation.abuse import AbuseGuard
from connect.moderation.appeals import AppealService
from connect.moderation.audit import AuditLog
from connect.moderation.bans import BanService
from connect.moderation.enforcement import GatewayEnforcer
from connect.moderation.reports import ReportService
from connect.moderation.store import AppealStore, AuditStore, BanStore, FlagStore, ReportStore
from connect.observability.metrics import Metrics
from connect.presence.service import PresenceService
from connect.presence.store import HubPlaces, Places, PresenceStore, RedisPlaces
from connect.ratelimit import MemoryRateLimiter, RateLimiter, Rule, SharedRateLimiter
from connect.sessions.service import SessionService
from connect.sessions.store import MemorySessionStore, RedisSessionStore, SessionStore
from connect.settings import Settings
from connect.signaling import events as signaling_events
from connect.signaling.service import RelayService
from connect.signaling.textfilter import TextFilter
from connect.storage.db import Database
from connect.storage.redis import client_for as redis_client_for
from connect.storage.redis import limits_storage as redis_limits_storage
from connect.turn.probe import TurnProbe
from connect.turn.service import TurnService
from connect.uploads import SqlAttachmentLedger, UploadGuard


@dataclass(frozen=True, slots=True)
class Rules:
    token: Rule
    hello: Rule
    join: Rule
    report: Rule
    chat: Rule
    login: Rule
    appeal: Rule
    password_reset: Rule
    password_reset_email: Rule
    avatar: Rule
    profile: Rule
    channel: Rule
    call: Rule
    receipt: Rule
    read: Rule
    staff: Rule

    @classmethod
    def from_settings(cls, s: Settings) -> Rules:
        return cls(
            token=Rule.parse("token", s.rate_token),
            hello=Rule.parse("hello", s.rate_hello),
            join=Rule.parse("join", s.rate_join),
            report=Rule.parse("report", s.rate_report),
            chat=Rule.parse("chat", s.rate_chat),
            login=Rule.parse("login", s.rate_login),
            appeal=Rule.parse("appeal", s.rate_appeal),
            password_reset=Rule.parse("password-reset", s.rate_password_reset),
            password_reset_email=Rule.parse("password-reset-email", s.rate_password_reset_email),
            avatar=Rule.parse("avatar", s.rate_avatar),
            profile=Rule.parse("profile", s.rate_profile),
            channel=Rule.parse("channel", s.rate_channel),
            call=Rule.parse("call", s.rate_call),
            receipt=Rule.parse("receipt", s.rate_receipt),
            read=Rule.parse("read", s.rate_read),
            staff=Rule.parse("staff", s.rate_staff),
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
    accounts: AccountService
    turn: TurnService
    sessions: SessionService
    matching: MatchingService
    relay: RelayService
    reports: ReportService
    bans: BanService
    appeals: AppealService
    audit: AuditLog
    abuse: AbuseGuard
    flags: FlagStore
    contacts: ContactsService
    calls: CallService
    presence: PresenceService
    uploads: UploadGuard
    framecheck: FrameCheckService
    privacy: PrivacyService
    export_rule: Rule
    hub: Hub
    router: Router
    gateway: GatewayEndpoint
    websocket: WebSocketEngine | None
    events: EventPublisher
    cluster: Cluster | None
    redis: Redis | None
    turn_probe: TurnProbe


def build_sink(settings: Settings) -> Sink:
    url = settings.event_sink_url
    match settings.event_sink:
        case "log":
            return LogSink()
        case "redis":
            # Without a URL of its own the stream lives in the service's Redis (through
            # Sentinel when configured, so it follows a failover).
            own = None if url else redis_client_for(settings, pool_size=4)
            return RedisStreamSink(
                url or settings.redis_url or "redis://127.0.0.1:6379/0",
                settings.event_stream,
                client=own,
            )
        case "nats":
            return NatsJetStreamSink(url or "nats://127.0.0.1:4222", settings.event_stream)
        case "kafka":
            return KafkaSink(url or "127.0.0.1:9092", settings.event_stream)
    return NullSink()


def build_services(settings: Settings, clock: Clock) -> Services:
    metrics = Metrics()
    events = EventPublisher(build_sink(settings), clock, metrics, settings.event_buffer)
    db = Database(settings.sqlalchemy_url)
    limiter: RateLimiter = MemoryRateLimiter(clock)
    rules = Rules.from_settings(settings)
    tokens = TokenService(
        settings.jwt_secret, clock, settings.guest_token_ttl_s, settings.access_token_ttl_s
    )
    hub = Hub(settings.resume_grace_s, settings.resume_buffer_frames, metrics)
    audit = AuditLog(AuditStore(db), clock)
    logins = LiveLogins(hub)
    accounts = AccountService(
        accounts=AccountStore(db),
        refresh_tokens=RefreshTokenStore(db),
        tokens=tokens,
        passwords=Passwords(settings.password_hash_threads),
        clock=clock,
        refresh_ttl_s=settings.refresh_token_ttl_s,
        avatars_dir=settings.data_dir / "avatars",
        resets=PasswordResetStore(db),
        mailer=build_mailer(settings.smtp_url, settings.env, settings.data_dir),
        audit=audit,
        logins=logins,
        reset_ttl_s=settings.password_reset_ttl_s,
        web_origin=settings.web_origin,
        mail_from=settings.mail_from,
    )
    ip_hasher = IpHasher(settings.ip_hash_salt)
    turn = TurnService(
        settings.turn_secret, settings.turn_urls, settings.stun_urls, settings.turn_ttl_s, clock
    )
    redis_client = redis_client_for(settings)  # direct, or the primary Sentinel names
    cluster: Cluster | None = None
    match_store: MatchStore
    session_store: SessionStore
    counter: Counter
    if redis_client is not None:
        redis_match_store = match_store = RedisMatchStore(redis_client)

        async def counter() -> tuple[int, dict[str, int]]:
            return await redis_match_store.counts(settings.node_dead_after_s)

        session_store = RedisSessionStore(redis_client)
        cluster = Cluster(
            redis_client,
            settings.node_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}",
            grace_s=settings.resume_grace_s,
            dead_after_s=settings.node_dead_after_s,
        )
        cluster.attach(hub)
        cluster.on_broadcast(logins.on_broadcast)
        limiter = SharedRateLimiter(redis_limits_storage(settings.redis_url or "", redis_client))
    else:
        memory_match_store = match_store = MemoryMatchStore()
        session_store = MemorySessionStore()

        async def counter() -> tuple[int, dict[str, int]]:
            return len(hub.clients()), await memory_match_store.waiting()

    sessions = SessionService(
        session_store,
        clock,
        settings.session_record_ttl_s,
        on_end=lambda session, duration_s: metrics.session_duration.labels(
            "call" if session.kind == "call" else "strangers"
        ).observe(duration_s),
    )
    policy = MatchPolicy(
        allow_same_ip=settings.match_allow_same_ip,
        interest_widen_s=settings.match_interest_widen_s,
        region_widen_s=settings.match_region_widen_s,
        language_widen_s=settings.match_language_widen_s,
        country_widen_s=settings.match_country_widen_s,
        recent_pair_s=settings.match_recent_pair_s,
        avoid_s=settings.match_avoid_days * 86_400,
        avoid_cap=settings.match_avoid_max,
    )
    matching = MatchingService(
        store=match_store,
        sessions=sessions,
        deliverer=hub,
        turn=turn,
        policy=policy,
        clock=clock,
        metrics=metrics,
        events=events,
        geo=GeoService.from_settings(settings),
        counter=counter,
        timeout_s=settings.match_timeout_s,
        status_every_s=settings.queue_status_s,
    )
    relay = RelayService(
        sessions=sessions,
        deliverer=hub,
        text_filter=TextFilter.from_settings(
            settings.text_filter_words_file, settings.text_filter_words
        ),
        clock=clock,
        metrics=metrics,
        events=events,
        partners=cluster,
    )
    enforcer = GatewayEnforcer(hub, matching, ip_hasher)
    if cluster is not None:
        cluster.on_broadcast(enforcer.on_broadcast)
    bans = BanService(
        store=BanStore(db),
        audit=audit,
        tokens=tokens,
        enforcer=enforcer,
        staff=accounts,
        clock=clock,
        metrics=metrics,
        events=events,
        ip_hasher=ip_hasher,
        accounts=AccountStore(db),
    )
    if cluster is not None:
        cluster.on_broadcast(bans.on_broadcast)
    report_store = ReportStore(db)
    flags = FlagStore(db)
    abuse = AbuseGuard(
        settings=settings,
        reports=report_store,
        flags=flags,
        bans=bans,
        clock=clock,
        metrics=metrics,
    )
    matching.on_skip = abuse.session_skipped
    account_store = AccountStore(db)
    uploads = UploadGuard(
        ledger=SqlAttachmentLedger(db),
        limiter=limiter,
        rate=settings.rate_upload,
        quota_bytes=settings.upload_quota_bytes,
        files_dir=settings.data_dir / "attachments",
        orphan_grace_s=settings.attachment_orphan_grace_s,
        clock=clock,
    )
    contacts = ContactsService(
        store=ContactStore(db),
        accounts=account_store,
        deliverer=hub,
        clock=clock,
        files_dir=settings.data_dir / "attachments",
        attachment_max_bytes=settings.attachment_max_bytes,
        events=events,
        edit_window_s=settings.message_edit_window_s,
    )
    contact_store = ContactStore(db)
    places: Places = RedisPlaces(redis_client) if redis_client is not None else HubPlaces(hub)
    presence = PresenceService(
        store=PresenceStore(db), places=places, peers=contact_store, deliverer=hub, clock=clock
    )
    reports = ReportService(
        store=report_store,
        bans_store=BanStore(db),
        flags=flags,
        sessions=sessions,
        bans=bans,
        abuse=abuse,
        audit=audit,
        evidence_dir=settings.data_dir / "evidence",
        evidence_max_bytes=settings.evidence_max_bytes,
        retention_days=settings.report_retention_days,
        clock=clock,
        metrics=metrics,
        events=events,
        contacts=contacts,
        accounts=account_store,
    )
    appeals = AppealService(
        store=AppealStore(db),
        bans=bans,
        audit=audit,
        tokens=tokens,
        clock=clock,
        metrics=metrics,
    )
    framecheck = FrameCheckService(
        settings=settings,
        sessions=sessions,
        reports=reports,
        bans=bans,
        deliverer=hub,
        limiter=limiter,
        metrics=metrics,
        clock=clock,
        audit=audit,
    )
    matching.frame_check = framecheck.offer
    calls = CallService(
        store=CallStore(db),
        accounts=account_store,
        sessions=sessions,
        presence=hub,
        deliverer=hub,
        turn=turn,
        clock=clock,
        ring_timeout_s=settings.call_ring_timeout_s,
        metrics=metrics,
        events=events,
        blocks=contacts,
        places=places,
    )
    hub.subscribe(calls)
    relay.on_call_stats = calls.record_stats
    hub.subscribe(presence)
    hub.on_welcome(presence.on_welcome)
    hub.subscribe(matching)
    hub.on_welcome(contacts.push_backlog)
    router = Router()
    matching_events.register(router, matching, limiter, rules.join, abuse, hub)
    moderation_events.register(router, abuse)
    contacts_events.register(router, contacts)
    signaling_events.register(
        router,
        relay,
        matching,
        calls,
        rules.chat,
        clock,
        Rule.parse("reaction", settings.rate_reaction),
    )
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
    gateway.admit_with(bans.admission)
    gateway.admit_with(accounts.admission)
    return Services(
        settings=settings,
        clock=clock,
        metrics=metrics,
        db=db,
        limiter=limiter,
        rules=rules,
        tokens=tokens,
        ip_hasher=ip_hasher,
        accounts=accounts,
        turn=turn,
        sessions=sessions,
        matching=matching,
        relay=relay,
        reports=reports,
        bans=bans,
        appeals=appeals,
        audit=audit,
        abuse=abuse,
        flags=flags,
        contacts=contacts,
        calls=calls,
        presence=presence,
        uploads=uploads,
        framecheck=framecheck,
        privacy=PrivacyService(
            accounts=accounts,
            store=PrivacyStore(db),
            audit=audit,
            clock=clock,
            avatars_dir=settings.data_dir / "avatars",
            files_dir=settings.data_dir / "attachments",
        ),
        export_rule=Rule.parse("export", settings.rate_export),
        hub=hub,
        router=router,
        gateway=gateway,
        websocket=WebSocketEngine(gateway, settings) if settings.ws_engine == "picows" else None,
        events=events,
        cluster=cluster,
        redis=redis_client,
        turn_probe=TurnProbe(
            turn=turn,
            stun_urls=settings.stun_urls,
            turn_urls=settings.turn_urls,
            interval_s=settings.turn_probe_interval_s,
            timeout_s=settings.turn_probe_timeout_s,
            clock=clock,
            metrics=metrics,
        ),
    )
