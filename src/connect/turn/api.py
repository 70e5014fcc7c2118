"""GET /api/ice-config (and its alias POST /api/turn/credentials)."""

from __future__ import annotations

from fastapi import APIRouter

from connect.deps import CurrentPrincipal, ServicesDep
from connect.turn.schemas import IceConfig

router = APIRouter(prefix="/api", tags=["turn"])


async def _ice_config(principal: CurrentPrincipal, svc: ServicesDep) -> IceConfig:
    await svc.limiter.hit(svc.rules.token, f"ice:{principal.key}")
    return svc.turn.ice_config(principal.subject)


router.add_api_route(
    "/ice-config",
    _ice_config,
    methods=["GET"],
    response_model=IceConfig,
    response_model_by_alias=True,
    response_model_exclude_none=True,
)
router.add_api_route(
    "/turn/credentials",
    _ice_config,
    methods=["POST"],
    response_model=IceConfig,
    response_model_by_alias=True,
    response_model_exclude_none=True,
)
