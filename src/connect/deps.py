"""FastAPI dependencies shared by the REST routes.

All are ``async def`` although none awaits: FastAPI runs a plain ``def``
dependency in a worker thread, and that hop per dependency per request was
the largest cost of a guest-token request in the churn benchmark (anyio's
thread hand-off, ~20% of the server's CPU). What they do is CPU-only and
short (a hash, a JWT check), so running them on the event loop is right.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from connect.errors import unauthorized
from connect.identity.accounts import STAFF_ROLES
from connect.identity.service import Principal, scope_client_ip
from connect.moderation.audit import Actor
from connect.services import Services

_bearer = HTTPBearer(auto_error=False)


async def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def ip_hash(request: Request, svc: Annotated[Services, Depends(services)]) -> str:
    """The salted hash of the client's address, computed once per request (observe_http)."""
    cached = request.scope.get("state", {}).get("ip_hash")
    if isinstance(cached, str):
        return cached
    return svc.ip_hasher.hash(scope_client_ip(request.scope, svc.settings.trusted_proxies))


async def client_ip(request: Request, svc: Annotated[Services, Depends(services)]) -> str:
    """The client's address, for range-ban checks only: never logged or stored."""
    return scope_client_ip(request.scope, svc.settings.trusted_proxies)


async def any_principal(
    svc: Annotated[Services, Depends(services)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The token's holder, banned or not (logout, appeals)."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise unauthorized("Authorization: Bearer <token> is required")
    return svc.tokens.verify(creds.credentials)


async def principal(
    svc: Annotated[Services, Depends(services)],
    holder: Annotated[Principal, Depends(any_principal)],
    ip_hash: Annotated[str, Depends(ip_hash)],
    ip: Annotated[str, Depends(client_ip)],
) -> Principal:
    """The token's holder, refused with ``banned`` while a ban names them or their address.

    Bans bite on every authenticated route, not only where a socket opens;
    the check is the in-memory ban index, a query only on a hit.
    """
    await svc.bans.refuse_principal(holder, ip_hash, ip)
    return holder


async def staff_actor(
    principal: Annotated[Principal, Depends(principal)], svc: Annotated[Services, Depends(services)]
) -> Actor:
    """A moderator or admin; every /api/admin call counts against CONNECT_RATE_STAFF.

    The limit sits here, not in each route, so no staff route can be added
    without one: a stolen staff token can only read or act so fast.
    """
    await svc.limiter.hit(svc.rules.staff, principal.key)
    account = await svc.accounts.authorize(principal, STAFF_ROLES)
    return Actor(account.id, account.role)


async def admin_actor(
    principal: Annotated[Principal, Depends(principal)], svc: Annotated[Services, Depends(services)]
) -> Actor:
    await svc.limiter.hit(svc.rules.staff, principal.key)
    account = await svc.accounts.authorize(principal, ("admin",))
    return Actor(account.id, account.role)


async def optional_principal(
    svc: Annotated[Services, Depends(services)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    if creds is None:
        return None
    return svc.tokens.verify(creds.credentials)


ClientIpHash = Annotated[str, Depends(ip_hash)]
ClientIp = Annotated[str, Depends(client_ip)]
AnyPrincipal = Annotated[Principal, Depends(any_principal)]
StaffActor = Annotated[Actor, Depends(staff_actor)]
AdminActor = Annotated[Actor, Depends(admin_actor)]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(principal)]
ServicesDep = Annotated[Services, Depends(services)]
