"""Every setting of the service, validated once at start-up.

Settings come from ``CONNECT_*`` environment variables (or a ``.env`` file).
In ``dev`` the secrets have throw-away defaults so ``make run`` works on a
fresh machine; in ``prod`` a default, short or reused secret is a start-up
error, because a guessable JWT or TURN secret lets anyone mint identities.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0000000000"  # noqa: S105 (refused in prod)
DEV_TURN_SECRET = "dev-only-turn-secret-change-me-000000000"  # noqa: S105 (refused in prod)
DEV_IP_HASH_SALT = "dev-only-ip-hash-salt-change-me-00000000"
DEV_CAPTCHA_SECRET = "dev-only-captcha-secret-change-me-00000"  # noqa: S105 (refused in prod)
_DEV_SECRETS = {DEV_JWT_SECRET, DEV_TURN_SECRET, DEV_IP_HASH_SALT, DEV_CAPTCHA_SECRET}
MIN_SECRET_LENGTH = 32


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CONNECT_",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )

    env: Literal["dev", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("./data")
    database_url: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    jwt_secret: str = DEV_JWT_SECRET
    guest_token_ttl_s: int = Field(default=300, ge=30, le=3600)
    access_token_ttl_s: int = Field(default=900, ge=60, le=86400)
    refresh_token_ttl_s: int = Field(default=30 * 86400, ge=3600)
    ip_hash_salt: str = DEV_IP_HASH_SALT
    trusted_proxies: CsvList = Field(default_factory=list)

    turn_secret: str = DEV_TURN_SECRET
    turn_urls: CsvList = Field(default_factory=list)
    stun_urls: CsvList = Field(default_factory=list)
    turn_ttl_s: int = Field(default=3600, ge=60, le=86400)
    # Connect probes every STUN/TURN URL above (connect.turn.probe): how often (0: never)
    # and how long one binding or allocation may take before it counts as unreachable.
    turn_probe_interval_s: float = Field(default=30.0, ge=0, le=3600)
    turn_probe_timeout_s: float = Field(default=5.0, gt=0, le=60)

    ws_engine: Literal["picows", "asgi"] = "picows"
    hello_timeout_s: float = Field(default=5.0, gt=0)
    heartbeat_s: float = Field(default=20.0, gt=0)
    resume_grace_s: float = Field(default=15.0, ge=0)
    resume_buffer_frames: int = Field(default=256, ge=0)
    max_frame_bytes: int = Field(default=64 * 1024, ge=1024)
    send_buffer_bytes: int = Field(default=1024 * 1024, ge=16 * 1024)
    event_rate_per_s: float = Field(default=30.0, gt=0)
    event_burst: int = Field(default=60, ge=1)
    event_flood_refusals: int = Field(default=50, ge=1)

    rate_token: str = "30/minute"  # noqa: S105 (a rate, not a secret)
    rate_hello: str = "60/minute"
    rate_join: str = "60/minute"
    rate_report: str = "10/hour"
    rate_chat: str = "5/second;60/minute"
    rate_login: str = "10/minute;100/hour"
    rate_appeal: str = "5/hour"
    # Per account, for the routes that had none (docs/operations.md, "Rate limits"):
    # avatar uploads (each stores an image), profile edits, opening conversations,
    # answering and ending calls, read/delivered receipts, and account-scoped reads.
    rate_avatar: str = "5/minute;30/day"
    rate_profile: str = "10/minute;100/day"
    rate_channel: str = "30/minute;500/day"
    rate_call: str = "30/minute;500/hour"
    rate_receipt: str = "20/second;1200/minute"
    rate_read: str = "300/minute;6000/hour"
    # Per staff account, every /api/admin route (the dashboard polls a few routes).
    rate_staff: str = "600/minute"

    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    call_ring_timeout_s: float = Field(default=30.0, gt=0)
    # Messenger (ext): how long after sending the sender may still edit a message.
    message_edit_window_s: float = Field(default=900.0, gt=0)

    report_retention_days: int = Field(default=90, ge=1)
    evidence_max_bytes: int = Field(default=300_000, ge=10_000, le=5_000_000)
    autosuspend_reporters: int = Field(default=3, ge=2)
    autosuspend_window_s: float = Field(default=3600.0, gt=0)
    autosuspend_hours: float = Field(default=24.0, gt=0)
    report_spam_per_hour: int = Field(default=5, ge=2)
    captcha_secret: str = DEV_CAPTCHA_SECRET
    captcha_max_number: int = Field(default=100_000, ge=10)
    next_streak_count: int = Field(default=20, ge=3)
    next_streak_window_s: float = Field(default=60.0, gt=0)
    next_streak_short_s: float = Field(default=3.0, ge=0)
    token_churn_devices: int = Field(default=20, ge=2)
    token_churn_window_s: float = Field(default=600.0, gt=0)
    captcha_pass_s: float = Field(default=1800.0, gt=0)
    # Threads that hash passwords off the event loop: each hash takes 64 MiB while it runs.
    password_hash_threads: int = Field(default=2, ge=1, le=32)

    match_allow_same_ip: bool = False
    match_interest_widen_s: float = Field(default=5.0, ge=0)
    match_region_widen_s: float = Field(default=15.0, ge=0)
    match_language_widen_s: float | None = None
    match_recent_pair_s: float = Field(default=600.0, ge=0)
    # "Don't match me with this person again" (next with avoid, or a report): how long, and
    # how many avoided people each device/account keeps (the oldest dropped first).
    match_avoid_days: float = Field(default=30.0, gt=0, le=3650)
    match_avoid_max: int = Field(default=500, ge=1, le=10_000)
    match_sweep_interval_s: float = Field(default=1.0, gt=0)
    session_record_ttl_s: float = Field(default=3600.0, ge=60)

    redis_url: str | None = None
    # Redis Sentinel (failover): host:port of each Sentinel and the name they know the
    # primary by. With Sentinels, CONNECT_REDIS_URL carries only the data nodes' database,
    # username, password and TLS (its host is unused; redis://<master>/0 when unset).
    redis_sentinels: CsvList = Field(default_factory=list)
    redis_sentinel_master: str = "mymaster"
    redis_sentinel_username: str | None = None
    redis_sentinel_password: str | None = None
    node_id: str | None = None
    node_dead_after_s: float = Field(default=3.0, gt=0)
    event_sink: Literal["none", "log", "redis", "nats", "kafka"] = "none"
    event_sink_url: str | None = None
    event_stream: str = "connect-events"
    event_buffer: int = Field(default=10_000, ge=10)
    otel_enabled: bool = False
    otel_endpoint: str | None = None
    otel_service_name: str = "connect"

    text_filter_words_file: Path | None = None
    text_filter_words: CsvList = Field(default_factory=list)

    @field_validator(
        "turn_urls",
        "stun_urls",
        "trusted_proxies",
        "text_filter_words",
        "redis_sentinels",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinel_addresses(cls, addresses: list[str]) -> list[str]:
        from connect.storage.redis import parse_address

        for address in addresses:
            parse_address(address)  # a ValueError names the bad one
        return addresses

    @model_validator(mode="after")
    def _sentinel_url(self) -> Settings:
        """Sentinels alone mean Redis is in use: a URL without host gives db 0, no password."""
        if self.redis_sentinels and not self.redis_url:
            object.__setattr__(self, "redis_url", f"redis://{self.redis_sentinel_master}/0")
        return self

    @field_validator("turn_urls", "stun_urls")
    @classmethod
    def _ice_scheme(cls, urls: list[str], info: ValidationInfo) -> list[str]:
        kind = "turn" if info.field_name == "turn_urls" else "stun"
        for url in urls:
            if not url.startswith((f"{kind}:", f"{kind}s:")):
                raise ValueError(
                    f"{kind.upper()} url must start with {kind}: or {kind}s: ({url!r})"
                )
        return urls

    @model_validator(mode="after")
    def _secrets_in_prod(self) -> Settings:
        if self.env != "prod":
            return self
        named = {
            "CONNECT_JWT_SECRET": self.jwt_secret,
            "CONNECT_TURN_SECRET": self.turn_secret,
            "CONNECT_IP_HASH_SALT": self.ip_hash_salt,
            "CONNECT_CAPTCHA_SECRET": self.captcha_secret,
        }
        for name, value in named.items():
            if value in _DEV_SECRETS:
                raise ValueError(f"{name} must be set in prod (the dev default is public)")
            if len(value) < MIN_SECRET_LENGTH:
                raise ValueError(f"{name} must be at least {MIN_SECRET_LENGTH} characters")
        if len(set(named.values())) != len(named):
            raise ValueError("the secrets (" + ", ".join(named) + ") must all differ")
        return self

    @cached_property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'connect.db').resolve()}"

    # -- account lifecycle: password change and reset by mail (engineer D) ----------
    # smtp://[user:pass@]host[:port] (STARTTLS when offered) or smtps://...; unset: dev
    # writes mails to <data dir>/outbox/*.eml, prod answers resets 503 mail_not_configured.
    smtp_url: str | None = None
    mail_from: str = "Connect <noreply@localhost>"
    # The web app's public origin, for links in mails (default: http://<host>:<port>).
    public_url: str | None = None
    password_reset_ttl_s: int = Field(default=1800, ge=300, le=86400)
    rate_password_reset: str = "10/hour"  # noqa: S105 (a rate, per IP hash)
    rate_password_reset_email: str = "3/hour"  # noqa: S105 (a rate, per email address)
    # -- sessions and my data (engineer H2): data exports per account --------------------
    rate_export: str = "2/hour"

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("smtp://", "smtps://")):
            raise ValueError("CONNECT_SMTP_URL must start with smtp:// or smtps://")
        return url

    @field_validator("public_url")
    @classmethod
    def _public_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("CONNECT_PUBLIC_URL must start with http:// or https://")
        return url.rstrip("/") if url is not None else None

    @model_validator(mode="after")
    def _mail_links_in_prod(self) -> Settings:
        if self.env == "prod" and self.smtp_url and not self.public_url:
            raise ValueError(
                "CONNECT_PUBLIC_URL must be set in prod when CONNECT_SMTP_URL is (reset links)"
            )
        return self

    @property
    def web_origin(self) -> str:
        """Where links in mails point: ``public_url``, else this server's own address."""
        return self.public_url or f"http://{self.host}:{self.port}"

    # -- web security and upload quotas (engineer C) --------------------------------
    # Strict-Transport-Security max-age sent when env=prod (0: none, e.g. plain HTTP tests).
    hsts_max_age_s: int = Field(default=31_536_000, ge=0)
    # Origins other than the app's own that may call the API from a browser (CORS), e.g.
    # https://partner.example; empty (the default): closed.
    cors_origins: CsvList = Field(default_factory=list)
    # Client addresses (after CONNECT_TRUSTED_PROXIES) that may reach /metrics,
    # /health/detailed and the API docs; anyone else gets a 404.
    operator_cidrs: CsvList = Field(
        default_factory=lambda: [
            "127.0.0.0/8",
            "::1/128",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "fc00::/7",
        ]
    )
    rate_upload: str = "10/minute;200/day"
    upload_quota_bytes: int = Field(default=500 * 1024 * 1024, ge=1024)
    attachment_orphan_grace_s: float = Field(default=6 * 3600.0, ge=60)

    # The visitor's first minute (docs/protocol.md, Strangers): a waiting visitor gets
    # queue-status every queue_status_s and one match-timeout after match_timeout_s;
    # a country choice widens after match_country_widen_s (unset: never, like language).
    match_timeout_s: float = Field(default=20.0, gt=0, le=3600)
    queue_status_s: float = Field(default=3.0, ge=0.5, le=600)
    match_country_widen_s: float | None = Field(default=None, ge=0)
    rate_reaction: str = "3/second;30/minute"
    # GeoIP (docs/operations.md): an operator's .mmdb file, the embedded default (RIR
    # data in the iptocc package), and a trusted proxy's country header (e.g. CF-IPCountry).
    geoip_database: Path | None = None
    geoip_embedded: bool = True
    geoip_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")

    @field_validator("cors_origins", "operator_cidrs", mode="before")
    @classmethod
    def _csv_security(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            scheme, _, rest = origin.partition("://")
            if scheme not in ("http", "https") or not rest or "/" in rest or "*" in rest:
                raise ValueError(
                    f"CONNECT_CORS_ORIGINS takes exact origins like https://app.example "
                    f"(no path, no wildcard): {origin!r}"
                )
        return [origin.lower() for origin in origins]

    @field_validator("operator_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        import ipaddress

        for cidr in cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"CONNECT_OPERATOR_CIDRS: not an address or CIDR: {cidr!r}"
                ) from exc
        return cidrs

    # -- automated frame moderation (docs/operations.md, "Frame moderation") ------------
    # Sampling is on only when enabled AND the classifier is installed (nudenet needs
    # the extra connect[moderation-ai]; test-colour is for tests only).
    framecheck_enabled: bool = False
    framecheck_classifier: Literal["nudenet", "test-colour"] = "nudenet"
    framecheck_first_after_ms: int = Field(default=3000, ge=0, le=600_000)
    framecheck_mean_interval_ms: int = Field(default=30_000, ge=1000, le=3_600_000)
    framecheck_max_width: int = Field(default=320, ge=64, le=1280)
    framecheck_jpeg_quality: float = Field(default=0.7, gt=0, le=1)
    framecheck_max_bytes: int = Field(default=64 * 1024, ge=4096, le=1024 * 1024)
    framecheck_workers: int = Field(default=1, ge=1, le=64)
    framecheck_queue: int = Field(default=64, ge=1, le=100_000)
    framecheck_timeout_s: float = Field(default=5.0, gt=0, le=120)
    framecheck_review_threshold: float = Field(default=0.5, ge=0, le=1)
    framecheck_action_threshold: float = Field(default=0.8, ge=0, le=1)
    framecheck_ban_enabled: bool = False
    framecheck_ban_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    framecheck_escalate_hits: int = Field(default=3, ge=2, le=1000)
    framecheck_escalate_window_s: float = Field(default=600.0, gt=0)
    framecheck_report_window_s: float = Field(default=600.0, ge=0)
    # Per visitor: the default policy sends ~2 frames a minute plus one per new session.
    rate_frames: str = "20/minute;400/hour"

    @model_validator(mode="after")
    def _framecheck_thresholds(self) -> Settings:
        if self.framecheck_action_threshold < self.framecheck_review_threshold:
            raise ValueError(
                "CONNECT_FRAMECHECK_ACTION_THRESHOLD must not be below "
                "CONNECT_FRAMECHECK_REVIEW_THRESHOLD"
            )
        return self
