"""Presence REST: the people I talk to, and who may see me."""

from __future__ import annotations

from fastapi import APIRouter

from connect.deps import CurrentPrincipal, ServicesDep
from connect.identity.accounts import ROLES
from connect.presence.schemas import PresenceList, VisibilityIn, VisibilityOut

router = APIRouter(prefix="/api", tags=["presence"])


async def _me(principal: CurrentPrincipal, svc: ServicesDep) -> str:
    me = (await svc.accounts.authorize(principal, ROLES)).id
    await svc.limiter.hit(svc.rules.join, f"presence:{me}")
    return me


@router.get("/presence", response_model=PresenceList)
async def peers_presence(principal: CurrentPrincipal, svc: ServicesDep) -> PresenceList:
    """Online / last seen of everyone I share a channel with who lets me see it."""
    me = await _me(principal, svc)
    return PresenceList(presence=await svc.presence.of_peers(me))


@router.get("/auth/presence", response_model=VisibilityOut)
async def my_visibility(principal: CurrentPrincipal, svc: ServicesDep) -> VisibilityOut:
    me = await _me(principal, svc)
    return VisibilityOut(visibility=await svc.presence.visibility(me))


@router.put("/auth/presence", response_model=VisibilityOut)
async def set_visibility(
    body: VisibilityIn, principal: CurrentPrincipal, svc: ServicesDep
) -> VisibilityOut:
    """Who sees my presence: the people I share a channel with, or nobody."""
    me = await _me(principal, svc)
    return VisibilityOut(visibility=await svc.presence.set_visibility(me, body.visibility))
