"""POST /api/auth/token: a guest token for the strangers strand."""

from __future__ import annotations

from fastapi import APIRouter

from connect.deps import ClientIpHash, ServicesDep
from connect.identity.schemas import GuestTokenReply, GuestTokenRequest

router = APIRouter(prefix="/api/auth", tags=["identity"])


@router.post("/token", response_model=GuestTokenReply, response_model_by_alias=True)
async def guest_token(
    body: GuestTokenRequest, ip_hash: ClientIpHash, svc: ServicesDep
) -> GuestTokenReply:
    await svc.limiter.hit(svc.rules.token, ip_hash)
    token = svc.tokens.issue_guest(body.device_id, ip_hash)
    return GuestTokenReply(token=token, expires_in=svc.tokens.guest_ttl_s)
