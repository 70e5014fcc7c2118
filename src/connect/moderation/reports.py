"""Reports: filing by session members, the moderators' queue, and resolution.

Only a member of the session may report it, once. Membership is checked
against the session record the session service keeps for a while after the
session ends; the reported side is always the *other* member, never someone
the reporter names, so a report cannot be aimed at an arbitrary device.

Filing copies what moderators need out of the ephemeral session record —
mode, times, common interests and the chat transcript — so the report stands
on its own. Transcripts and evidence images are deleted after
``report_retention_days``; the report row itself stays for the subject's
history.

Reports from a contacts conversation (``channelId``, optionally one
``messageId``) go to the same queue. Only an account that is a member of the
conversation may file one, and the reported side is again always the other
member. A few messages around the reported one (or the latest ones) are copied
as the transcript, so the moderator sees the excerpt in context; the reported
account's id is kept, so an account ban from the queue names exactly it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import structlog

from connect.clock import Clock, utc_now
from connect.contacts.reasons import refused
from connect.contacts.service import ContactsService
from connect.errors import ConnectError, conflict, forbidden, not_found, refusal, unauthorized
from connect.events.service import NO_EVENTS, Publisher
from connect.identity.service import Principal, user_subject
from connect.identity.store import AccountStore
from connect.moderation.abuse import AbuseGuard
from connect.moderation.audit import Actor, AuditLog
from connect.moderation.ban_targets import RESOLVE_REFUSALS
from connect.moderation.bans import BanService, Scope, ban_target
from connect.moderation.evidence import EvidenceFiles
from connect.moderation.schemas import ReportCreated, ReportIn
from connect.moderation.store import BanStore, DuplicateReport, FlagStore, ReportStore
from connect.observability.metrics import Metrics
from connect.sessions.models import Member, Session
from connect.sessions.service import SessionService
from connect.storage.models import Account, Ban, Flag, Report

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SubjectHistory:
    reports: list[Report]
    bans: list[Ban]
    flags: list[Flag]
    reported_account: Account | None = None


class ReportService:
    def __init__(
        self,
        *,
        store: ReportStore,
        bans_store: BanStore,
        flags: FlagStore,
        sessions: SessionService,
        bans: BanService,
        abuse: AbuseGuard,
        audit: AuditLog,
        evidence_dir: Path,
        evidence_max_bytes: int,
        retention_days: int,
        clock: Clock,
        metrics: Metrics,
        events: Publisher = NO_EVENTS,
        contacts: ContactsService | None = None,
        accounts: AccountStore | None = None,
    ) -> None:
        self._contacts = contacts
        self._accounts = accounts
        self._events = events
        self._store = store
        self._bans_store = bans_store
        self._flags = flags
        self._sessions = sessions
        self._bans = bans
        self._abuse = abuse
        self._audit = audit
        self._evidence = EvidenceFiles(evidence_dir, evidence_max_bytes)
        self._retention = timedelta(days=retention_days)
        self._clock = clock
        self._metrics = metrics

    async def file(self, reporter: Principal, ip_hash: str, body: ReportIn) -> ReportCreated:
        if body.channel_id is not None:
            return await self._file_conversation(reporter, ip_hash, body, body.channel_id)
        assert body.session_id is not None  # ReportIn requires exactly one of the two
        evidence = self._evidence.decode(body.evidence) if body.evidence else None
        session = await self._sessions.get(body.session_id)
        if session is None:
            raise not_found("no such session (or it ended too long ago to report)")
        me = session.member_by_subject(reporter.key)
        if me is None:
            raise forbidden("only a member of the session can report it")
        other = session.partner_of(me.client_id)
        if other is None or other.subject == me.subject:
            raise ConnectError("invalid_request", "nobody else to report in this session")
        report_id = uuid.uuid4().hex
        evidence_path = self._evidence.store(report_id, evidence) if evidence else None
        report = await self._session_report(
            report_id,
            session,
            other,
            reporter_subject=reporter.key,
            reporter_ip_hash=ip_hash,
            reason=body.reason,
            comment=body.comment,
            evidence_path=evidence_path,
        )
        try:
            await self._store.add(report)
        except DuplicateReport as exc:
            self._evidence.remove(evidence_path)
            raise conflict("you already reported this session", "already_reported") from exc
        self._metrics.reports.labels(body.reason).inc()
        self._metrics.reports_pending_count.changed()
        self._events.publish(
            "report.filed",
            reportId=report.id,
            reason=body.reason,
            mode=session.mode,
            evidence=evidence is not None,
        )
        await self._abuse.report_filed(report)
        return ReportCreated(id=report.id, status="pending")

    async def _file_conversation(
        self, reporter: Principal, ip_hash: str, body: ReportIn, channel_id: str
    ) -> ReportCreated:
        me = reporter.account_id
        if me is None:
            raise unauthorized("log in to report a conversation")
        if self._contacts is None:
            raise refused("channel_not_found")
        channel, other, lines = await self._contacts.report_context(me, channel_id, body.message_id)
        if await self._store.pending_from(reporter.key, channel_id, body.message_id):
            what = "message" if body.message_id else "conversation"
            raise conflict(f"you already reported this {what}", "already_reported")
        now = utc_now(self._clock)
        report = Report(
            id=uuid.uuid4().hex,
            session_id=None,
            channel_id=channel_id,
            message_id=body.message_id,
            reported_account_id=other,
            reporter_subject=reporter.key,
            reporter_ip_hash=ip_hash,
            reported_subject=user_subject(other),
            reported_kind="access",
            reported_peer_id=None,
            reported_ip_hash="",
            reason=body.reason,
            comment=body.comment,
            status="pending",
            session_mode="contacts",
            session_started_at=channel.created_at,
            session_ended_at=None,
            common_interests=[],
            created_at=now,
            transcript=lines,
            evidence_path=None,
        )
        await self._store.add(report)
        self._metrics.reports.labels(body.reason).inc()
        self._metrics.reports_pending_count.changed()
        self._events.publish(
            "report.filed",
            reportId=report.id,
            reason=body.reason,
            mode="contacts",
            evidence=False,
        )
        await self._abuse.report_filed(report)
        return ReportCreated(id=report.id, status="pending")

    def evidence_file(self, report: Report) -> Path | None:
        return self._evidence.file(report.evidence_path)

    async def queue(self, status: str | None, limit: int, offset: int) -> list[Report]:
        return await self._store.queue(status, limit, offset)

    async def get(self, report_id: str) -> Report:
        report = await self._store.get(report_id)
        if report is None:
            raise not_found("no such report")
        return report

    async def history(self, report: Report) -> SubjectHistory:
        # A conversation report knows no IP (""): it must match nothing, not everything.
        reports = await self._store.about(
            report.reported_subject, report.reported_ip_hash or None, exclude=report.id
        )
        by_id: dict[str, Ban] = {}
        _, bare = ban_target(report.reported_subject)
        for value in (bare, report.reported_ip_hash):
            if not value:
                continue
            for ban in await self._bans_store.search(value, False, utc_now(self._clock), 50):
                by_id.setdefault(ban.id, ban)
        bans = list(by_id.values())
        flags = await self._flags.about(report.reported_subject)
        account = None
        if report.reported_account_id and self._accounts is not None:
            account = await self._accounts.by_id(report.reported_account_id)
        return SubjectHistory(reports, bans, flags, account)

    async def pending_count(self) -> int:
        return await self._store.count("pending")

    async def resolve(
        self,
        actor: Actor,
        report_id: str,
        action: Literal["accept", "reject"],
        ban_scopes: list[Scope],
        duration_hours: float | None,
        note: str | None,
    ) -> tuple[Report, list[Ban]]:
        report = await self.get(report_id)
        if report.status != "pending":
            raise conflict("this report was already resolved", "already_resolved")
        if ban_scopes and action != "accept":
            raise refusal(RESOLVE_REFUSALS, "ban_needs_accept")
        if "account" in ban_scopes and report.reported_kind != "access":
            raise refusal(RESOLVE_REFUSALS, "ban_visitor_has_no_account")
        if "device" in ban_scopes and report.reported_kind == "access":
            raise refusal(RESOLVE_REFUSALS, "ban_visitor_had_account")
        if "ip" in ban_scopes and not report.reported_ip_hash:
            raise refusal(RESOLVE_REFUSALS, "ban_conversation_has_no_ip")
        status = "accepted" if action == "accept" else "rejected"
        if not await self._store.resolve(
            report_id, status=status, at=utc_now(self._clock), by=actor.id, note=note, ban_id=None
        ):
            raise conflict("this report was already resolved", "already_resolved")
        self._metrics.moderation_decisions.labels(status).inc()
        self._metrics.reports_pending_count.changed()
        await self._audit.append(
            actor,
            f"report.{action}",
            "report",
            report_id,
            {"note": note, "banScopes": list(ban_scopes)},
        )
        bans: list[Ban] = []
        reason = f"report {report.reason}" + (f": {note}" if note else "")
        for scope in ban_scopes:
            value = (
                report.reported_ip_hash if scope == "ip" else ban_target(report.reported_subject)[1]
            )
            bans.append(
                await self._bans.ban(
                    actor,
                    scope,
                    value,
                    reason=reason,
                    duration_hours=duration_hours,
                    report_id=report_id,
                )
            )
        resolved = await self.get(report_id)
        return resolved, bans

    async def _session_report(
        self,
        report_id: str,
        session: Session,
        reported: Member,
        *,
        reporter_subject: str,
        reporter_ip_hash: str,
        reason: str,
        comment: str | None,
        evidence_path: str | None,
        source: str = "user",
        scores: dict[str, float] | None = None,
    ) -> Report:
        """A pending report about ``reported`` in ``session``, with the session's facts."""
        return Report(
            id=report_id,
            session_id=session.id,
            reporter_subject=reporter_subject,
            reporter_ip_hash=reporter_ip_hash,
            reported_subject=reported.subject,
            reported_kind=reported.kind,
            reported_peer_id=reported.peer_id,
            reported_ip_hash=reported.ip_hash,
            reason=reason,
            comment=comment,
            status="pending",
            session_mode=session.mode,
            session_started_at=datetime.fromtimestamp(session.started_at, UTC),
            session_ended_at=None
            if session.ended_at is None
            else datetime.fromtimestamp(session.ended_at, UTC),
            common_interests=list(session.common_interests),
            created_at=utc_now(self._clock),
            transcript=await self._sessions.transcript(session.id),
            evidence_path=evidence_path,
            source=source,
            scores=scores,
        )

    async def file_auto(
        self,
        session: Session,
        member: Member,
        *,
        frame: bytes,
        scores: dict[str, float],
        comment: str,
    ) -> Report | None:
        """File the frame classifier's report about ``member`` (connect.framecheck).

        An ordinary report in the queue, reason ``nudity``, ``source`` "auto",
        the frame as its evidence. The reporter is ``auto:<peer id>``, so the
        table's (session, reporter) uniqueness keeps one automatic report per
        session and reported member, on every node: None when there already is one.
        """
        report_id = uuid.uuid4().hex
        report = await self._session_report(
            report_id,
            session,
            member,
            reporter_subject=f"auto:{member.peer_id}",
            reporter_ip_hash="",
            reason="nudity",
            comment=comment,
            evidence_path=self._evidence.store(report_id, frame),
            source="auto",
            scores=scores,
        )
        try:
            await self._store.add(report)
        except DuplicateReport:
            self._evidence.remove(report.evidence_path)
            return None
        self._metrics.reports.labels("nudity").inc()
        self._metrics.reports_pending_count.changed()
        self._events.publish(
            "report.filed", reportId=report.id, reason="nudity", mode=session.mode, evidence=True
        )
        # Not counted by the abuse guard's "reported by N people": automatic bans from
        # frames are the frame policy's, behind the operator's own switch.
        return report

    async def auto_sessions_about(self, subject: str, within_s: float, exclude: str) -> int:
        """Other sessions with an automatic report about ``subject`` in the last ``within_s``:
        the cluster-wide part of the frame policy's escalation count."""
        since = utc_now(self._clock) - timedelta(seconds=within_s)
        return await self._store.auto_sessions_about(subject, since, exclude)

    async def mark_false_positive(self, actor: Actor, report_id: str) -> Report:
        """A moderator says an automatic report was wrong (audited; 409 when not automatic)."""
        report = await self.get(report_id)
        if report.source != "auto":
            raise conflict("only an automatic report can be a false positive", "not_automatic")
        if not await self._store.mark_false_positive(report_id):
            raise conflict("already marked as a false positive", "already_marked")
        await self._audit.append(
            actor, "report.false_positive", "report", report_id, {"scores": report.scores}
        )
        return await self.get(report_id)

    async def prune(self) -> int:
        """Delete transcripts and evidence images older than the retention period."""
        old = await self._store.expired_evidence(utc_now(self._clock) - self._retention)
        for report in old:
            self._evidence.remove(report.evidence_path)
        if old:
            await self._store.drop_evidence([r.id for r in old])
        return len(old)
