"""Direct calls REST."""

from __future__ import annotations

from fastapi import APIRouter, Query

from connect.calls.schemas import CallIn, CallList, CallOut, EndIn, RespondIn
from connect.deps import CurrentPrincipal, ServicesDep
from connect.identity.accounts import ROLES

router = APIRouter(prefix="/api/calls", tags=["calls"])


@router.post("", status_code=201, response_model=CallOut)
async def place_call(body: CallIn, principal: CurrentPrincipal, svc: ServicesDep) -> CallOut:
    me = (await svc.accounts.authorize(principal, ROLES)).id
    await svc.limiter.hit(svc.rules.join, me)
    call = await svc.calls.invite(me, body.callee_id, body.media, body.connection_id)
    return await svc.calls.view(call)


@router.post("/{call_id}/respond", response_model=CallOut)
async def respond(
    call_id: str, body: RespondIn, principal: CurrentPrincipal, svc: ServicesDep
) -> CallOut:
    await svc.limiter.hit(svc.rules.call, principal.key)
    me = (await svc.accounts.authorize(principal, ROLES)).id
    return await svc.calls.view(
        await svc.calls.respond(me, call_id, body.accept, body.connection_id)
    )


@router.post("/{call_id}/end", response_model=CallOut)
async def end(
    call_id: str, principal: CurrentPrincipal, svc: ServicesDep, body: EndIn | None = None
) -> CallOut:
    await svc.limiter.hit(svc.rules.call, principal.key)
    me = (await svc.accounts.authorize(principal, ROLES)).id
    return await svc.calls.view(await svc.calls.end(me, call_id, (body or EndIn()).reason))


@router.get("/{call_id}", response_model=CallOut)
async def get_call(call_id: str, principal: CurrentPrincipal, svc: ServicesDep) -> CallOut:
    await svc.limiter.hit(svc.rules.read, principal.key)
    me = (await svc.accounts.authorize(principal, ROLES)).id
    return await svc.calls.get(me, call_id)


@router.get("", response_model=CallList)
async def call_history(
    principal: CurrentPrincipal, svc: ServicesDep, limit: int = Query(default=50, ge=1, le=200)
) -> CallList:
    await svc.limiter.hit(svc.rules.read, principal.key)
    me = (await svc.accounts.authorize(principal, ROLES)).id
    return CallList(calls=await svc.calls.history(me, limit))
