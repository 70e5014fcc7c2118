"""Shapes of the moderation endpoints (public and admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from connect.moderation.ban_reasons import BanReason
from connect.schemas import WireModel, exactly_one_of, omitted_if_none
from connect.turn.schemas import TurnStatus

ReportReason = Literal["nudity", "harassment", "spam", "underage", "violence", "other"]
BanScope = Literal["device", "ip", "account"]
BanDescription = Literal["device", "account", "hash", "address", "ipv6_network", "range"]


class ReportIn(WireModel):
    """A stranger session (``sessionId``) or a contacts conversation (``channelId``,
    optionally one ``messageId`` in it): exactly one of the two."""

    session_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    channel_id: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{32}$", description="(ext) report from a conversation"
    )
    message_id: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{32}$", description="(ext) the reported message"
    )
    reason: ReportReason
    comment: str | None = Field(default=None, max_length=1000)
    evidence: str | None = Field(
        default=None, max_length=600_000, description="one JPEG frame, base64 or a data: URL"
    )
    avoid: bool = Field(
        default=True,
        description="(ext) never match the reporter with this stranger again (sessionId only)",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["sessionId"],
                    "properties": {
                        "sessionId": {"not": {"type": "null"}},
                        "messageId": {"type": "null"},
                    },
                },
                {"required": ["channelId"], "properties": {"channelId": {"not": {"type": "null"}}}},
            ]
        }
    )

    @model_validator(mode="after")
    def _one_target(self) -> ReportIn:
        if (self.session_id is None) == (self.channel_id is None):
            raise ValueError("give exactly one of sessionId or channelId")
        if self.message_id is not None and self.channel_id is None:
            raise ValueError("messageId needs channelId")
        if self.evidence is not None and self.session_id is None:
            raise ValueError("evidence is only for a stranger session")
        return self


class ReportCreated(WireModel):
    id: str
    status: Literal["pending"]


class AppealIn(WireModel):
    model_config = ConfigDict(json_schema_extra=exactly_one_of("appealToken", "banId"))

    appeal_token: str | None = Field(default=None, max_length=2048)
    ban_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    text: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _one_proof(self) -> AppealIn:
        if (self.appeal_token is None) == (self.ban_id is None):
            raise ValueError("give exactly one of appealToken or banId")
        return self


class AppealCreated(WireModel):
    id: str
    status: Literal["pending"]


class BanReasonParams(WireModel):
    """(ext) The parameters of an automatic ban's ``reasonCode``."""

    reporters: int | None = omitted_if_none(description="auto_reported: distinct reporters")
    label: str | None = omitted_if_none(description="auto_frame_check: the classifier's label")
    score: str | None = omitted_if_none(description="auto_frame_check: its score, e.g. 0.93")


class BanView(WireModel):
    id: str
    scope: BanScope
    value: str
    reason: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    lifted_at: datetime | None
    lifted_by: str | None
    report_id: str | None
    automatic: bool
    active: bool
    reason_code: BanReason | None = omitted_if_none(
        description="(ext) an automatic ban's reason as a code (see Banned)"
    )
    reason_params: BanReasonParams | None = omitted_if_none()


class BanIn(WireModel):
    """A staff ban. ``value`` is what staff type: an IP address or CIDR range, an account
    id or email, a device id (or a typed subject as shown in sessions and reports)."""

    scope: BanScope
    value: str = Field(min_length=1, max_length=320)
    reason: str = Field(min_length=1, max_length=500)
    duration_hours: float | None = Field(default=None, gt=0, le=24 * 365 * 10)


class BanTargetIn(WireModel):
    scope: BanScope
    value: str = Field(min_length=1, max_length=320)


class BanTargetOut(WireModel):
    """What a ban with this scope and value would match, before it is saved."""

    scope: BanScope
    value: str
    description: str = Field(description="English; a fallback for descriptionCode")
    description_code: BanDescription = Field(
        description="(ext) what the ban would match, for the client to say"
    )
    description_params: dict[str, str | int] = Field(
        description="(ext) device: value; account: name, email; address and ipv6_network: "
        "address; range: range, count (a decimal string)"
    )


class BanSpec(WireModel):
    duration_hours: float | None = Field(default=None, gt=0, le=24 * 365 * 10)
    scope: list[BanScope] = Field(min_length=1, max_length=3)


class ResolveIn(WireModel):
    action: Literal["accept", "reject"]
    ban: BanSpec | None = None
    note: str | None = Field(default=None, max_length=1000)


class FlagView(WireModel):
    kind: str
    detail: str
    created_at: datetime


class ReportSummary(WireModel):
    id: str
    reason: str
    status: str
    created_at: datetime


class SubjectView(WireModel):
    subject: str
    ip_hash: str
    kind: Literal["guest", "access"] | None = None


class SessionMeta(WireModel):
    mode: str
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    common_interests: list[str]


class ResolutionView(WireModel):
    action: str
    note: str | None
    at: datetime | None
    by: str | None


class HistoryView(WireModel):
    reports: list[ReportSummary]
    bans: list[BanView]
    flags: list[FlagView]


class ReportedAccount(WireModel):
    id: str
    display_name: str | None


class ReportView(WireModel):
    id: str
    session_id: str | None
    reason: str
    comment: str | None
    status: str
    created_at: datetime
    reporter: SubjectView
    reported: SubjectView
    reported_peer_id: str | None
    session: SessionMeta
    transcript: list[dict[str, Any]] | None
    has_evidence: bool
    resolution: ResolutionView | None
    history: HistoryView
    reporter_flags: list[FlagView]
    source: Literal["session", "conversation", "auto"] = Field(
        default="session",
        description="a visitor's report from a stranger session or a conversation, "
        "or auto: filed by the frame classifier",
    )
    scores: dict[str, float] | None = Field(
        default=None, description="(auto) the flagged labels' scores, 0..1"
    )
    false_positive: bool = Field(default=False, description="(auto) a moderator marked it wrong")
    channel_id: str | None = None
    message_id: str | None = None
    message_excerpt: str | None = None
    reported_account: ReportedAccount | None = None


class ReportList(WireModel):
    reports: list[ReportView]


class ResolveOut(WireModel):
    report: ReportView
    bans: list[BanView]


class BanList(WireModel):
    bans: list[BanView]


# A typed subject as staff views show it, or a bare device id (a guest's).
WARNING_SUBJECT = r"^(guest:[A-Za-z0-9_-]{8,64}|user:[0-9a-f]{32}|[A-Za-z0-9_-]{8,64})$"


class WarningIn(WireModel):
    subject: str = Field(pattern=WARNING_SUBJECT, max_length=70)
    message: str = Field(min_length=1, max_length=500)


class WarningOut(WireModel):
    delivered: int


class AppealView(WireModel):
    id: str
    ban_id: str
    text: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str | None
    ban: BanView | None


class AppealList(WireModel):
    appeals: list[AppealView]


class DecisionIn(WireModel):
    decision: Literal["accept", "reject"]
    note: str | None = Field(default=None, max_length=1000)


class AuditView(WireModel):
    seq: int
    at: datetime
    actor_id: str
    actor_role: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditList(WireModel):
    entries: list[AuditView]


class AuditCheck(WireModel):
    ok: bool
    checked: int
    first_broken_seq: int | None
    problem: str | None
    head_hash: str


class Stats(WireModel):
    connections: int
    waiting: dict[str, int]
    live_sessions: int
    matches_per_minute: float
    reports_pending: int
    active_bans: int
    appeals_pending: int
    # The TURN/STUN probe's last result per configured URL (empty: none configured or
    # not probed yet); see connect.turn.probe.
    turn: list[TurnStatus] = []


class SessionMember(WireModel):
    peer_id: str
    subject: str
    ip_hash: str


class LiveSession(WireModel):
    id: str
    mode: str
    started_at: datetime
    duration_s: float
    common_interests: list[str]
    messages: int
    members: list[SessionMember]


class LiveSessions(WireModel):
    sessions: list[LiveSession]


class Warning(WireModel):
    """The ``warning`` event a moderator's warning reaches the visitor as."""

    message: str


class AltchaParameters(WireModel):
    """ALTCHA v2 challenge parameters (as the ``altcha`` library serialises them)."""

    algorithm: str
    nonce: str
    salt: str
    cost: int
    key_length: int
    key_prefix: str
    key_signature: str | None = omitted_if_none()
    memory_cost: int | None = omitted_if_none()
    parallelism: int | None = omitted_if_none()
    expires_at: int | None = omitted_if_none()


class AltchaChallenge(WireModel):
    parameters: AltchaParameters
    signature: str | None


class CaptchaRequiredEvent(WireModel):
    challenge: AltchaChallenge


class CaptchaSolution(WireModel):
    payload: str = Field(min_length=1, max_length=8192)


class AppealRoute(WireModel):
    ban_id: str
    token: str
    url: str


class Banned(WireModel):
    until: str | None
    reason: str = Field(description="as staff typed it; English for an automatic ban")
    appeal: AppealRoute
    reason_code: BanReason | None = omitted_if_none(
        description="(ext) an automatic ban's reason as a code, for the client to say"
    )
    reason_params: BanReasonParams | None = omitted_if_none(
        description="(ext) the reason's parameters"
    )
