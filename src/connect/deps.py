"""FastAPI dependencies shared by the REST routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from connect.errors import unauthorized
from connect.identity.service import Principal, client_ip
from connect.services import Services

_bearer = HTTPBearer(auto_error=False)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def ip_hash(request: Request, svc: Annotated[Services, Depends(services)]) -> str:
    peer = request.client.host if request.client else None
    ip = client_ip(peer, request.headers.get("x-forwarded-for"), svc.settings.trusted_proxies)
    return svc.ip_hasher.hash(ip)


def principal(
    svc: Annotated[Services, Depends(services)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise unauthorized("Authorization: Bearer <token> is required")
    return svc.tokens.verify(creds.credentials)


ClientIpHash = Annotated[str, Depends(ip_hash)]
CurrentPrincipal = Annotated[Principal, Depends(principal)]
ServicesDep = Annotated[Services, Depends(services)]
