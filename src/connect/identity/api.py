"""Identity endpoints: guest tokens, login, refresh, logout, me, password change and reset."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, StreamingResponse

from connect.contacts.schemas import ProfileIn, SignupIn, UserList, UserOut
from connect.contacts.service import user_out
from connect.deps import AnyPrincipal, ClientIp, ClientIpHash, CurrentPrincipal, ServicesDep
from connect.errors import ConnectError
from connect.identity.accounts import AVATAR_MAX_BYTES, ROLES
from connect.identity.devices import browser_label
from connect.identity.schemas import (
    SESSION_ID_PATTERN,
    AccountDeleteIn,
    AccountOut,
    GuestTokenReply,
    GuestTokenRequest,
    LoginIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RefreshIn,
    RevokedOut,
    SessionList,
    SessionOut,
    TokenPairOut,
)
from connect.identity.token_route import issue_guest_token
from connect.services import Services

router = APIRouter(prefix="/api/auth", tags=["identity"])


@router.post("/token", response_model=GuestTokenReply)
async def guest_token(
    body: GuestTokenRequest, ip_hash: ClientIpHash, ip: ClientIp, svc: ServicesDep
) -> GuestTokenReply:
    """Served by :class:`connect.identity.token_route.GuestTokenRoute` when the body is valid."""
    return await issue_guest_token(svc, body.device_id, ip_hash, ip)


@router.post("/login", response_model=TokenPairOut)
async def login(
    body: LoginIn, request: Request, ip_hash: ClientIpHash, ip: ClientIp, svc: ServicesDep
) -> TokenPairOut:
    await svc.limiter.hit(svc.rules.login, ip_hash)
    await svc.limiter.hit(svc.rules.login, body.email.lower())
    browser = browser_label(request.headers.get("user-agent"))
    pair = await svc.accounts.login(body.email, body.password, browser)
    await _refuse_banned_login(svc, pair.access_token, pair.refresh_token, ip_hash, ip)
    return TokenPairOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post("/refresh", response_model=TokenPairOut)
async def refresh(
    body: RefreshIn, ip_hash: ClientIpHash, ip: ClientIp, svc: ServicesDep
) -> TokenPairOut:
    await svc.limiter.hit(svc.rules.login, ip_hash)
    pair = await svc.accounts.refresh(body.refresh_token)
    await _refuse_banned_login(svc, pair.access_token, pair.refresh_token, ip_hash, ip)
    return TokenPairOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


async def _refuse_banned_login(
    svc: Services, access_token: str, refresh_token: str, ip_hash: str, ip: str
) -> None:
    """A banned account (or a staff-less login from a banned address) gets no session.

    Checked once the password is known to be right, so the answer never tells
    a stranger whether an email has an account; the login just made is ended
    at once, so its refresh token is worth nothing either.
    """
    principal = svc.tokens.verify(access_token)
    try:
        await svc.bans.refuse_principal(principal, ip_hash, ip)
    except ConnectError:
        await svc.accounts.logout(refresh_token, principal)
        raise


@router.post("/logout", status_code=204)
async def logout(body: RefreshIn, principal: AnyPrincipal, svc: ServicesDep) -> Response:
    await svc.limiter.hit(svc.rules.login, f"logout:{principal.key}")
    await svc.accounts.logout(body.refresh_token, principal)
    return Response(status_code=204)


@router.post("/password", status_code=204)
async def change_password(
    body: PasswordChangeIn, principal: CurrentPrincipal, ip_hash: ClientIpHash, svc: ServicesDep
) -> Response:
    """Account token only; every other login of the account ends (this one stays)."""
    await svc.limiter.hit(svc.rules.login, ip_hash)
    await svc.limiter.hit(svc.rules.login, f"password:{principal.key}")
    await svc.accounts.change_password(principal, body.current_password, body.new_password)
    return Response(status_code=204)


@router.post("/password-reset", status_code=202, response_class=Response)
async def request_password_reset(
    body: PasswordResetIn, ip_hash: ClientIpHash, ip: ClientIp, svc: ServicesDep
) -> Response:
    """Always 202 at once, whether the account exists or not (the mail goes out later)."""
    await svc.limiter.hit(svc.rules.password_reset, ip_hash)
    await svc.bans.refuse_if_banned(ip_hash=ip_hash, ip=ip)
    # Keyed by a hash: the limiter's store (Redis) never holds the address itself.
    address = hashlib.sha256(body.email.strip().lower().encode()).hexdigest()[:32]
    await svc.limiter.hit(svc.rules.password_reset_email, address)
    svc.accounts.request_reset(body.email)
    return Response(status_code=202)


@router.post("/password-reset/confirm", status_code=204)
async def confirm_password_reset(
    body: PasswordResetConfirmIn, ip_hash: ClientIpHash, svc: ServicesDep
) -> Response:
    """Spend a mailed token: new password, and every login of the account ends."""
    await svc.limiter.hit(svc.rules.login, ip_hash)
    await svc.accounts.confirm_reset(body.token, body.new_password)
    return Response(status_code=204)


@router.get("/me", response_model=AccountOut)
async def me(principal: CurrentPrincipal, svc: ServicesDep) -> AccountOut:
    await svc.limiter.hit(svc.rules.read, principal.key)
    account = await svc.accounts.authorize(principal, ROLES)
    return AccountOut.model_validate(account, from_attributes=True)


@router.post("/signup", status_code=201, response_model=AccountOut)
async def signup(
    body: SignupIn, ip_hash: ClientIpHash, ip: ClientIp, svc: ServicesDep
) -> AccountOut:
    await svc.limiter.hit(svc.rules.login, ip_hash)
    await svc.bans.refuse_if_banned(ip_hash=ip_hash, ip=ip)
    account = await svc.accounts.create(body.email, body.password, body.display_name, "user")
    return AccountOut.model_validate(account, from_attributes=True)


@router.put("/profile", response_model=AccountOut)
async def update_profile(
    body: ProfileIn, principal: CurrentPrincipal, svc: ServicesDep
) -> AccountOut:
    await svc.limiter.hit(svc.rules.profile, principal.key)
    account = await svc.accounts.authorize(principal, ROLES)
    await svc.accounts.update_profile(account.id, body.display_name)
    return AccountOut.model_validate(await svc.accounts.get(account.id), from_attributes=True)


@router.post("/avatar", response_model=UserOut)
async def upload_avatar(file: UploadFile, principal: CurrentPrincipal, svc: ServicesDep) -> UserOut:
    """Replace my avatar; counted per account before the file is read (CONNECT_RATE_AVATAR)."""
    await svc.limiter.hit(svc.rules.avatar, principal.key)
    account = await svc.accounts.authorize(principal, ROLES)
    data = await file.read(AVATAR_MAX_BYTES + 1)
    await svc.accounts.set_avatar(account.id, data)
    return user_out(await svc.accounts.get(account.id))


# -- sessions and my data (engineer H2) -------------------------------------------------


@router.get("/sessions", response_model=SessionList)
async def list_sessions(principal: CurrentPrincipal, svc: ServicesDep) -> SessionList:
    """My signed-in devices (live logins), most recently used first."""
    await svc.limiter.hit(svc.rules.join, f"sessions:{principal.key}")
    rows = await svc.accounts.sessions(principal)
    return SessionList(
        sessions=[
            SessionOut(
                id=f.id,
                created_at=f.created_at,
                last_used_at=f.last_used_at or f.created_at,
                browser=f.browser,
                current=current,
            )
            for f, current in rows
        ]
    )


@router.post("/sessions/revoke-others", response_model=RevokedOut)
async def revoke_other_sessions(principal: CurrentPrincipal, svc: ServicesDep) -> RevokedOut:
    """Sign out everywhere else: every login of my account but this one ends."""
    await svc.limiter.hit(svc.rules.join, f"sessions:{principal.key}")
    return RevokedOut(revoked=await svc.accounts.end_other_sessions(principal))


@router.delete("/sessions/{session_id}", status_code=204)
async def revoke_session(
    principal: CurrentPrincipal,
    svc: ServicesDep,
    session_id: str = Path(pattern=SESSION_ID_PATTERN),
) -> Response:
    """Sign one of my logins out (another account's id is 404, never 403)."""
    await svc.limiter.hit(svc.rules.join, f"sessions:{principal.key}")
    await svc.accounts.end_session(principal, session_id)
    return Response(status_code=204)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"description": "a ZIP of my data", "content": {"application/zip": {}}}},
)
async def export_my_data(principal: CurrentPrincipal, svc: ServicesDep) -> StreamingResponse:
    """A ZIP of my data, streamed; account tokens only, a few per hour."""
    account = await svc.accounts.authorize(principal, ROLES)
    await svc.limiter.hit(svc.export_rule, f"export:{account.id}")
    stream = await svc.privacy.export(principal)
    return StreamingResponse(
        stream,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{svc.privacy.export_name()}"',
            "Cache-Control": "no-store",
        },
    )


@router.delete("/account", status_code=204)
async def delete_account(
    body: AccountDeleteIn, principal: CurrentPrincipal, ip_hash: ClientIpHash, svc: ServicesDep
) -> Response:
    """Delete my account, confirmed by my password (see docs/privacy.md)."""
    await svc.limiter.hit(svc.rules.login, ip_hash)
    await svc.limiter.hit(svc.rules.login, f"delete:{principal.key}")
    await svc.privacy.delete_account(principal, body.password)
    return Response(status_code=204)


users = APIRouter(prefix="/api/users", tags=["identity"])


@users.get("", response_model=UserList)
async def search_users(
    principal: CurrentPrincipal,
    svc: ServicesDep,
    query: str = Query(default="", max_length=254),
    limit: int = Query(default=20, ge=1, le=50),
) -> UserList:
    account = await svc.accounts.authorize(principal, ROLES)
    await svc.limiter.hit(svc.rules.join, f"search:{account.id}")
    found = await svc.accounts.search(query.strip(), limit, searcher=account.id)
    return UserList(users=[user_out(a) for a in found])


@users.get("/{user_id}/avatar", response_class=FileResponse)
async def avatar(user_id: str, principal: CurrentPrincipal, svc: ServicesDep) -> FileResponse:
    await svc.limiter.hit(svc.rules.read, principal.key)
    await svc.accounts.authorize(principal, ROLES)
    path, kind = await svc.accounts.avatar_file(user_id)
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "private, max-age=300"})
