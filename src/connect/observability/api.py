"""Liveness, readiness and the Prometheus scrape endpoint."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from connect.deps import ServicesDep
from connect.errors import ConnectError
from connect.observability.metrics import CONTENT_TYPE_LATEST
from connect.services import Services

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
async def ready(svc: ServicesDep) -> JSONResponse:
    try:
        await svc.db.ping()
    except Exception:
        err = ConnectError("not_ready", "database unavailable", status=503)
        return JSONResponse(err.body(), status_code=503)
    return JSONResponse({"status": "ready", "checks": {"database": "ok"}})


@router.get("/metrics")
async def metrics(svc: ServicesDep) -> Response:
    await refresh_gauges(svc)
    return Response(svc.metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def refresh_gauges(svc: Services) -> None:
    for mode, count in (await svc.matching.waiting()).items():
        svc.metrics.queue_waiting.labels(mode).set(count)
    svc.metrics.sessions_live.set(len(await svc.sessions.live()))
