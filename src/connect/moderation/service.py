"""Filing reports about a session's other member.

Only a member of the session may report it, once. Membership is checked
against the session record the session service keeps for an hour after the
session ends; the reported side is always the *other* member, never someone
the reporter names, so a report cannot be aimed at an arbitrary device.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from connect.clock import Clock
from connect.errors import ConnectError, conflict, forbidden, not_found
from connect.identity.service import Principal
from connect.moderation.schemas import ReportCreated, ReportIn
from connect.moderation.store import DuplicateReport, ReportStore
from connect.observability.metrics import Metrics
from connect.sessions.service import SessionService
from connect.storage.models import Report


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class ReportService:
    def __init__(
        self, store: ReportStore, sessions: SessionService, clock: Clock, metrics: Metrics
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._clock = clock
        self._metrics = metrics

    async def file(self, reporter: Principal, ip_hash: str, body: ReportIn) -> ReportCreated:
        session = await self._sessions.get(body.session_id)
        if session is None:
            raise not_found("no such session (or it ended too long ago to report)")
        me = session.member_by_subject(reporter.subject)
        if me is None:
            raise forbidden("only a member of the session can report it")
        other = session.partner_of(me.client_id)
        if other is None or other.subject == me.subject:
            raise ConnectError("invalid_request", "nobody else to report in this session")
        report = Report(
            id=uuid.uuid4().hex,
            session_id=session.id,
            reporter_subject=reporter.subject,
            reporter_ip_hash=ip_hash,
            reported_subject=other.subject,
            reported_ip_hash=other.ip_hash,
            reason=body.reason,
            comment=body.comment,
            status="pending",
            session_mode=session.mode,
            session_started_at=_dt(session.started_at),
            session_ended_at=_dt(session.ended_at),
            common_interests=list(session.common_interests),
            created_at=_dt(self._clock.now()),
        )
        try:
            await self._store.add(report)
        except DuplicateReport as exc:
            raise conflict("you already reported this session", "already_reported") from exc
        self._metrics.reports.labels(body.reason).inc()
        return ReportCreated(id=report.id, status="pending")
