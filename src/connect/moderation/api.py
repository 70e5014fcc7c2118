"""POST /api/reports."""

from __future__ import annotations

from fastapi import APIRouter

from connect.deps import ClientIpHash, CurrentPrincipal, ServicesDep
from connect.moderation.schemas import ReportCreated, ReportIn

router = APIRouter(prefix="/api", tags=["moderation"])


@router.post(
    "/reports", status_code=201, response_model=ReportCreated, response_model_by_alias=True
)
async def file_report(
    body: ReportIn,
    principal: CurrentPrincipal,
    ip_hash: ClientIpHash,
    svc: ServicesDep,
) -> ReportCreated:
    await svc.limiter.hit(svc.rules.report, principal.subject)
    return await svc.reports.file(principal, ip_hash, body)
