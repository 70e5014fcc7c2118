"""Turning moderation rows into the admin API's shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connect.moderation.ban_reasons import reason_code
from connect.moderation.reports import SubjectHistory
from connect.moderation.schemas import (
    AppealView,
    AuditView,
    BanView,
    FlagView,
    HistoryView,
    ReportedAccount,
    ReportSummary,
    ReportView,
    ResolutionView,
    SessionMeta,
    SubjectView,
)
from connect.storage.models import Appeal, AuditEntry, Ban, Flag, Report
from connect.storage.times import aware


def ban_view(ban: Ban, now: datetime) -> BanView:
    active = ban.lifted_at is None and (ban.expires_at is None or aware(ban.expires_at) > now)
    return BanView(
        id=ban.id,
        scope=ban.scope,
        value=ban.value,
        reason=ban.reason,
        created_at=aware(ban.created_at),
        created_by=ban.created_by,
        expires_at=aware(ban.expires_at) if ban.expires_at else None,
        lifted_at=aware(ban.lifted_at) if ban.lifted_at else None,
        lifted_by=ban.lifted_by,
        report_id=ban.report_id,
        automatic=ban.automatic,
        active=active,
        **_reason_fields(ban),
    )


def _reason_fields(ban: Ban) -> dict[str, Any]:
    """``reason_code``/``reason_params`` of an automatic ban the server worded, else none."""
    coded = reason_code(ban.reason, ban.automatic)
    return {} if coded is None else {"reason_code": coded[0], "reason_params": coded[1]}


def flag_view(flag: Flag) -> FlagView:
    return FlagView(kind=flag.kind, detail=flag.detail, created_at=aware(flag.created_at))


def report_view(
    report: Report,
    history: SubjectHistory,
    reporter_flags: list[Flag],
    has_evidence: bool,
    now: datetime,
) -> ReportView:
    started = aware(report.session_started_at)
    ended = aware(report.session_ended_at) if report.session_ended_at else None
    return ReportView(
        id=report.id,
        session_id=report.session_id,
        reason=report.reason,
        comment=report.comment,
        status=report.status,
        created_at=aware(report.created_at),
        reporter=SubjectView(subject=report.reporter_subject, ip_hash=report.reporter_ip_hash),
        reported=SubjectView(
            subject=report.reported_subject,
            ip_hash=report.reported_ip_hash,
            kind=report.reported_kind,
        ),
        reported_peer_id=report.reported_peer_id,
        session=SessionMeta(
            mode=report.session_mode,
            started_at=started,
            ended_at=ended,
            duration_s=(ended - started).total_seconds() if ended else None,
            common_interests=list(report.common_interests or []),
        ),
        transcript=report.transcript,
        has_evidence=has_evidence,
        resolution=ResolutionView(
            action=report.resolution,
            note=report.resolution_note,
            at=aware(report.resolved_at) if report.resolved_at else None,
            by=report.resolved_by,
        )
        if report.resolution
        else None,
        history=HistoryView(
            reports=[
                ReportSummary(
                    id=r.id, reason=r.reason, status=r.status, created_at=aware(r.created_at)
                )
                for r in history.reports
            ],
            bans=[ban_view(b, now) for b in history.bans],
            flags=[flag_view(f) for f in history.flags],
        ),
        reporter_flags=[flag_view(f) for f in reporter_flags],
        source="auto"
        if report.source == "auto"
        else "conversation"
        if report.channel_id
        else "session",
        scores=dict(report.scores) if report.scores is not None else None,
        false_positive=bool(report.false_positive),
        channel_id=report.channel_id,
        message_id=report.message_id,
        message_excerpt=_excerpt(report),
        reported_account=ReportedAccount(
            id=report.reported_account_id,
            display_name=history.reported_account.display_name
            if history.reported_account
            else None,
        )
        if report.reported_account_id
        else None,
    )


def _excerpt(report: Report) -> str | None:
    """The reported message's text, from the copy taken at filing (gone after retention)."""
    if not report.message_id:
        return None
    for line in report.transcript or []:
        if isinstance(line, dict) and line.get("messageId") == report.message_id:
            return str(line.get("text", ""))
    return None


def appeal_view(appeal: Appeal, ban: Ban | None, now: datetime) -> AppealView:
    return AppealView(
        id=appeal.id,
        ban_id=appeal.ban_id,
        text=appeal.text,
        status=appeal.status,
        created_at=aware(appeal.created_at),
        decided_at=aware(appeal.decided_at) if appeal.decided_at else None,
        decided_by=appeal.decided_by,
        note=appeal.note,
        ban=ban_view(ban, now) if ban else None,
    )


def audit_view(e: AuditEntry) -> AuditView:
    return AuditView(
        seq=e.seq,
        at=aware(e.at),
        actor_id=e.actor_id,
        actor_role=e.actor_role,
        action=e.action,
        target_type=e.target_type,
        target_id=e.target_id,
        details=e.details,
        prev_hash=e.prev_hash,
        hash=e.hash,
    )
