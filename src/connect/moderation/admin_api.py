"""The moderators' API under /api/admin: every route checks the role server-side.

Routes are thin: they authorise (``StaffActor`` / ``AdminActor`` load the
account and check its *current* role), call one service, and shape the
reply. Every mutation is written to the audit log by the service.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse

from connect.bounds import INT32_MAX
from connect.clock import utc_now
from connect.deps import AdminActor, ServicesDep, StaffActor
from connect.errors import ConnectError, not_found
from connect.identity.schemas import AccountList, AccountOut, StaffIn, StandingIn
from connect.identity.service import guest_subject, split_subject
from connect.moderation.schemas import (
    AppealList,
    AppealView,
    AuditCheck,
    AuditList,
    BanIn,
    BanList,
    BanTargetIn,
    BanTargetOut,
    BanView,
    DecisionIn,
    LiveSession,
    LiveSessions,
    ReportList,
    ReportView,
    ResolveIn,
    ResolveOut,
    SessionMember,
    Stats,
    WarningIn,
    WarningOut,
)
from connect.moderation.views import appeal_view, audit_view, ban_view, report_view
from connect.services import Services
from connect.storage.models import Report

router = APIRouter(prefix="/api/admin", tags=["admin"])


async def _report_view(svc: Services, report: Report) -> ReportView:
    history = await svc.reports.history(report)
    reporter_flags = await svc.flags.about(report.reporter_subject)
    return report_view(
        report,
        history,
        reporter_flags,
        svc.reports.evidence_file(report) is not None,
        utc_now(svc.clock),
    )


@router.get("/stats", response_model=Stats)
async def stats(actor: StaffActor, svc: ServicesDep) -> Stats:
    waiting = await svc.matching.waiting()
    return Stats(
        connections=sum(1 for c in svc.hub.clients() if c.conn is not None),
        waiting={"video": waiting.get("video", 0), "text": waiting.get("text", 0)},
        live_sessions=len(await svc.sessions.live()),
        matches_per_minute=svc.matching.matches_last_minute(),
        reports_pending=await svc.reports.pending_count(),
        active_bans=await svc.bans.count_active(),
        appeals_pending=await svc.appeals.count("pending"),
        turn=[result.status() for result in svc.turn_probe.results()],
    )


@router.get("/sessions", response_model=LiveSessions)
async def live_sessions(actor: StaffActor, svc: ServicesDep) -> LiveSessions:
    now = svc.clock.now()
    return LiveSessions(
        sessions=[
            LiveSession(
                id=s.id,
                mode=s.mode,
                started_at=datetime.fromtimestamp(s.started_at, UTC),
                duration_s=round(now - s.started_at, 1),
                common_interests=s.common_interests,
                messages=s.messages,
                members=[
                    SessionMember(peer_id=m.peer_id, subject=m.subject, ip_hash=m.ip_hash)
                    for m in s.members
                ],
            )
            for s in sorted(await svc.sessions.live(), key=lambda s: s.started_at)
        ]
    )


@router.get("/reports", response_model=ReportList)
async def report_queue(
    actor: StaffActor,
    svc: ServicesDep,
    status: Literal["pending", "accepted", "rejected"] | None = "pending",
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=100_000),
) -> ReportList:
    reports = await svc.reports.queue(status, limit, offset)
    return ReportList(reports=[await _report_view(svc, r) for r in reports])


@router.get("/reports/{report_id}", response_model=ReportView)
async def report_detail(report_id: str, actor: StaffActor, svc: ServicesDep) -> ReportView:
    return await _report_view(svc, await svc.reports.get(report_id))


@router.get("/reports/{report_id}/evidence", response_class=FileResponse)
async def report_evidence(report_id: str, actor: StaffActor, svc: ServicesDep) -> FileResponse:
    path = svc.reports.evidence_file(await svc.reports.get(report_id))
    if path is None:
        raise not_found("this report has no evidence (or it passed its retention period)")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/reports/{report_id}/resolve", response_model=ResolveOut)
async def resolve_report(
    report_id: str, body: ResolveIn, actor: StaffActor, svc: ServicesDep
) -> ResolveOut:
    report, bans = await svc.reports.resolve(
        actor,
        report_id,
        body.action,
        list(dict.fromkeys(body.ban.scope)) if body.ban else [],
        body.ban.duration_hours if body.ban else None,
        body.note,
    )
    now = utc_now(svc.clock)
    return ResolveOut(report=await _report_view(svc, report), bans=[ban_view(b, now) for b in bans])


@router.post("/reports/{report_id}/false-positive", response_model=ReportView)
async def report_false_positive(report_id: str, actor: StaffActor, svc: ServicesDep) -> ReportView:
    """Mark an automatic (frame classifier) report wrong; audited, counted by label.

    409 ``not_automatic`` for a visitor's report, ``already_marked`` the second time.
    The report stays in the queue to be resolved as usual.
    """
    report = await svc.framecheck.false_positive(actor, report_id)
    return await _report_view(svc, report)


@router.get("/bans", response_model=BanList)
async def list_bans(
    actor: StaffActor,
    svc: ServicesDep,
    query: str | None = Query(default=None, max_length=64),
    active: bool = True,
    limit: int = Query(default=100, ge=1, le=500),
) -> BanList:
    now = utc_now(svc.clock)
    return BanList(bans=[ban_view(b, now) for b in await svc.bans.search(query, active, limit)])


@router.post("/bans", status_code=201, response_model=BanView)
async def create_ban(body: BanIn, actor: StaffActor, svc: ServicesDep) -> BanView:
    target = await svc.bans.resolve_target(body.scope, body.value)
    ban = await svc.bans.ban(
        actor, target.scope, target.value, reason=body.reason, duration_hours=body.duration_hours
    )
    return ban_view(ban, utc_now(svc.clock))


@router.post("/bans/preview", response_model=BanTargetOut)
async def preview_ban(body: BanTargetIn, actor: StaffActor, svc: ServicesDep) -> BanTargetOut:
    """What the ban form's value resolves to (400 with the reason when it is not valid)."""
    target = await svc.bans.resolve_target(body.scope, body.value)
    return BanTargetOut(
        scope=target.scope,
        value=target.value,
        description=target.description,
        description_code=target.code,
        description_params=target.params,
    )


@router.delete("/bans/{ban_id}", response_model=BanView)
async def lift_ban(ban_id: str, actor: StaffActor, svc: ServicesDep) -> BanView:
    return ban_view(await svc.bans.lift(actor, ban_id), utc_now(svc.clock))


@router.post("/warnings", response_model=WarningOut)
async def warn(body: WarningIn, actor: StaffActor, svc: ServicesDep) -> WarningOut:
    delivered = 0
    subject = body.subject if split_subject(body.subject) else guest_subject(body.subject)
    for client in svc.hub.of_subject(subject):
        delivered += svc.hub.deliver(client.id, "warning", {"message": body.message})
    await svc.audit.append(
        actor, "warning", "subject", subject, {"message": body.message, "delivered": delivered}
    )
    return WarningOut(delivered=delivered)


@router.get("/appeals", response_model=AppealList)
async def list_appeals(
    actor: StaffActor,
    svc: ServicesDep,
    status: Literal["pending", "accepted", "rejected"] | None = "pending",
    limit: int = Query(default=100, ge=1, le=500),
) -> AppealList:
    now = utc_now(svc.clock)
    return AppealList(
        appeals=[appeal_view(a, b, now) for a, b in await svc.appeals.list(status, limit)]
    )


@router.post("/appeals/{appeal_id}", response_model=AppealView)
async def decide_appeal(
    appeal_id: str, body: DecisionIn, actor: StaffActor, svc: ServicesDep
) -> AppealView:
    appeal = await svc.appeals.decide(actor, appeal_id, body.decision, body.note)
    return appeal_view(appeal, await svc.bans.get(appeal.ban_id), utc_now(svc.clock))


@router.get("/audit-log", response_model=AuditList)
async def audit_log(
    actor: StaffActor,
    svc: ServicesDep,
    limit: int = Query(default=100, ge=1, le=500),
    before: int | None = Query(default=None, ge=1, le=INT32_MAX),
) -> AuditList:
    return AuditList(entries=[audit_view(e) for e in await svc.audit.page(limit, before)])


@router.get("/audit-log/verify", response_model=AuditCheck)
async def audit_verify(actor: StaffActor, svc: ServicesDep) -> AuditCheck:
    check = await svc.audit.verify()
    return AuditCheck(
        ok=check.ok,
        checked=check.checked,
        first_broken_seq=check.first_broken_seq,
        problem=check.problem,
        head_hash=check.head_hash,
    )


@router.get("/staff", response_model=dict[str, list[AccountOut]])
async def list_staff(actor: AdminActor, svc: ServicesDep) -> dict[str, list[AccountOut]]:
    return {
        "staff": [
            AccountOut.model_validate(a, from_attributes=True) for a in await svc.accounts.staff()
        ]
    }


@router.post("/staff", status_code=201, response_model=AccountOut)
async def create_staff(body: StaffIn, actor: AdminActor, svc: ServicesDep) -> AccountOut:
    account = await svc.accounts.create(body.email, body.password, body.display_name, body.role)
    await svc.audit.append(
        actor, "staff.create", "account", account.id, {"email": account.email, "role": account.role}
    )
    return AccountOut.model_validate(account, from_attributes=True)


@router.get("/accounts", response_model=AccountList)
async def find_accounts(
    actor: AdminActor,
    svc: ServicesDep,
    email: str = Query(min_length=3, max_length=254),
) -> AccountList:
    """One account by exact email (none or one): to promote a user, or to manage
    someone who is no longer staff. Never a substring search; limited per admin
    like logins, so even an admin token cannot walk a list of addresses."""
    await svc.limiter.hit(svc.rules.login, f"admin-find:{actor.id}")
    try:
        found = [await svc.accounts.find(email=email)]
    except ConnectError:
        found = []
    return AccountList(accounts=[AccountOut.model_validate(a, from_attributes=True) for a in found])


@router.patch("/accounts/{account_id}", response_model=AccountOut)
async def change_account(
    body: StandingIn,
    actor: AdminActor,
    svc: ServicesDep,
    account_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
) -> AccountOut:
    """Role and/or disabled, audited; never oneself or the last active admin."""
    account = await svc.accounts.change_standing(
        actor, account_id, role=body.role, disabled=body.disabled
    )
    return AccountOut.model_validate(account, from_attributes=True)
