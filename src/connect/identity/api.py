"""Identity endpoints: guest tokens, login, refresh, logout, me."""

from __future__ import annotations

from fastapi import APIRouter, Response

from connect.deps import ClientIpHash, CurrentPrincipal, ServicesDep
from connect.identity.schemas import (
    AccountOut,
    GuestTokenReply,
    GuestTokenRequest,
    LoginIn,
    RefreshIn,
    TokenPairOut,
)

router = APIRouter(prefix="/api/auth", tags=["identity"])


@router.post("/token", response_model=GuestTokenReply, response_model_by_alias=True)
async def guest_token(
    body: GuestTokenRequest, ip_hash: ClientIpHash, svc: ServicesDep
) -> GuestTokenReply:
    await svc.limiter.hit(svc.rules.token, ip_hash)
    await svc.bans.refuse_if_banned(device_id=body.device_id, ip_hash=ip_hash)
    await svc.abuse.token_issued(ip_hash, body.device_id)
    token = svc.tokens.issue_guest(body.device_id, ip_hash)
    return GuestTokenReply(token=token, expires_in=svc.tokens.guest_ttl_s)


@router.post("/login", response_model=TokenPairOut, response_model_by_alias=True)
async def login(body: LoginIn, ip_hash: ClientIpHash, svc: ServicesDep) -> TokenPairOut:
    await svc.limiter.hit(svc.rules.login, ip_hash)
    await svc.limiter.hit(svc.rules.login, body.email.lower())
    pair = await svc.accounts.login(body.email, body.password)
    return TokenPairOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post("/refresh", response_model=TokenPairOut, response_model_by_alias=True)
async def refresh(body: RefreshIn, ip_hash: ClientIpHash, svc: ServicesDep) -> TokenPairOut:
    await svc.limiter.hit(svc.rules.login, ip_hash)
    pair = await svc.accounts.refresh(body.refresh_token)
    return TokenPairOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post("/logout", status_code=204)
async def logout(body: RefreshIn, principal: CurrentPrincipal, svc: ServicesDep) -> Response:
    await svc.accounts.logout(body.refresh_token)
    return Response(status_code=204)


@router.get("/me", response_model=AccountOut, response_model_by_alias=True)
async def me(principal: CurrentPrincipal, svc: ServicesDep) -> AccountOut:
    account = await svc.accounts.authorize(principal, ("user", "moderator", "admin"))
    return AccountOut.model_validate(account, from_attributes=True)
