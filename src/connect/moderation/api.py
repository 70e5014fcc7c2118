"""Public moderation endpoints: filing reports, filing appeals."""

from __future__ import annotations

from fastapi import APIRouter

from connect.deps import ClientIpHash, CurrentPrincipal, MaybePrincipal, ServicesDep
from connect.moderation.schemas import AppealCreated, AppealIn, ReportCreated, ReportIn

router = APIRouter(prefix="/api", tags=["moderation"])


@router.post(
    "/reports", status_code=201, response_model=ReportCreated, response_model_by_alias=True
)
async def file_report(
    body: ReportIn, principal: CurrentPrincipal, ip_hash: ClientIpHash, svc: ServicesDep
) -> ReportCreated:
    await svc.limiter.hit(svc.rules.report, principal.key)
    created = await svc.reports.file(principal, ip_hash, body)
    if body.avoid and body.session_id:
        await svc.matching.avoid_reported(principal.key, body.session_id)
    return created


@router.post(
    "/appeals", status_code=201, response_model=AppealCreated, response_model_by_alias=True
)
async def file_appeal(
    body: AppealIn, principal: MaybePrincipal, ip_hash: ClientIpHash, svc: ServicesDep
) -> AppealCreated:
    await svc.limiter.hit(svc.rules.appeal, ip_hash)
    appeal = await svc.appeals.file(
        body.text, appeal_token=body.appeal_token, ban_id=body.ban_id, principal=principal
    )
    return AppealCreated(id=appeal.id, status="pending")
