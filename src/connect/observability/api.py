"""Liveness, readiness and the Prometheus scrape endpoint."""

from __future__ import annotations

import asyncio
import platform
import time
from importlib.metadata import version

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from connect.deps import ServicesDep
from connect.errors import ConnectError, faults
from connect.observability.metrics import CONTENT_TYPE_LATEST
from connect.services import Services
from connect.storage.migrate import schema_problem

router = APIRouter(tags=["health"])


STARTED = time.monotonic()


@router.get("/health")
@router.get("/health/live")
async def health() -> dict[str, str]:
    """Liveness: the process serves requests. Never checks dependencies (a DB outage must
    not make the orchestrator restart every node)."""
    return {"status": "ok"}


async def _checks(svc: Services) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(svc.db.ping(), 2.0)
        checks["database"] = "ok"
        faults.recovered("database")
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if checks["database"] == "ok":
        # Serving on an unmigrated or outdated schema 500s (503s) every request: not ready.
        try:
            problem = schema_problem(await asyncio.wait_for(svc.db.revision(), 2.0))
            checks["schema"] = "ok" if problem is None else f"error: {problem}"
            if problem is None:
                faults.recovered("schema")
        except Exception as exc:
            checks["schema"] = f"error: {type(exc).__name__}"
    if svc.settings.redis_url:
        try:
            from connect.storage.redis import client_for

            # A client of its own (direct or through Sentinel), not the node's pool: a
            # pool waiting on a stalled Redis must not make the answer wait too.
            client = client_for(svc.settings, pool_size=1)
            assert client is not None
            try:
                await asyncio.wait_for(client.ping(), 2.0)
            finally:
                await client.aclose()
            checks["redis"] = "ok"
            faults.recovered("redis")
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    if svc.cluster is not None:
        # Redis answering is not enough: this node must be subscribed, beating and
        # reconciled after a loss to deliver across nodes.
        checks["cluster"] = svc.cluster.health()
    return checks


@router.get("/health/ready")
async def ready(svc: ServicesDep) -> JSONResponse:
    """Readiness: 200 only when the database (and Redis, when configured) answer, the
    schema is at this version's revision (``connect migrate`` has run), and the node is
    not draining."""
    checks = await _checks(svc)
    if svc.gateway.draining:
        checks["draining"] = "yes"
    if any(v != "ok" for k, v in checks.items()):
        failed = ", ".join(k for k, v in checks.items() if v != "ok")
        body = ConnectError("not_ready", f"not ready: {failed}", status=503).body()
        body["checks"] = checks
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})


@router.get("/health/detailed")
async def detailed(svc: ServicesDep) -> dict[str, object]:
    """Versions, uptime, backend states and connection counts, for operators."""
    clients = svc.hub.clients()
    return {
        "status": "ok",
        "version": version("connect"),
        "python": platform.python_version(),
        "uptimeS": round(time.monotonic() - STARTED, 1),
        "env": svc.settings.env,
        "backends": {
            "database": svc.db.engine.dialect.name,
            "ephemeral": "redis" if svc.settings.redis_url else "memory",
            "eventSink": svc.events.sink.name,
            "eventsPending": svc.events.pending,
        },
        "checks": await _checks(svc),
        "connections": {
            "live": sum(1 for c in clients if c.conn is not None),
            "suspended": sum(1 for c in clients if c.conn is None),
        },
        "waiting": await svc.matching.waiting(),
        "liveSessions": len(await svc.sessions.live()),
        "draining": svc.gateway.draining,
        "turn": turn_status(svc),
        "process": process_status(svc),
    }


PROCESS_FIELDS = {
    "process_cpu_seconds_total": "cpuSeconds",
    "process_resident_memory_bytes": "residentMemoryBytes",
    "process_open_fds": "openFds",
    "process_max_fds": "maxFds",
}


def process_status(svc: Services) -> dict[str, float]:
    """CPU, memory and descriptors of this node (the seeds' /health/system), read from the
    same process collector /metrics exports."""
    out: dict[str, float] = {}
    for family in svc.metrics.process.collect():
        for sample in family.samples:
            if sample.name in PROCESS_FIELDS:
                out[PROCESS_FIELDS[sample.name]] = sample.value
    return out


def turn_status(svc: Services) -> dict[str, object]:
    """The TURN/STUN probe's last result per configured URL (connect.turn.probe)."""
    probe = svc.turn_probe
    return {
        "probeIntervalS": probe.interval_s if probe.enabled else None,
        "servers": [result.status().wire() for result in probe.results()],
    }


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(svc: ServicesDep) -> Response:
    await refresh_gauges(svc)
    return Response(svc.metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def refresh_gauges(svc: Services) -> None:
    for mode, count in (await svc.matching.waiting()).items():
        svc.metrics.queue_waiting.labels(mode).set(count)
    live, calls = await svc.sessions.counts()
    svc.metrics.sessions_live.set(live)
    svc.metrics.calls_active.set(calls)
    try:
        # The one database read here: bounded, and a database outage keeps the last count
        # instead of failing /metrics (every other series must still reach Prometheus).
        await asyncio.wait_for(
            svc.metrics.reports_pending_count.refresh(
                svc.reports.pending_count, svc.clock.monotonic()
            ),
            2.0,
        )
    except TimeoutError as exc:
        # A database too slow to count within the bound (load, a stalled PostgreSQL):
        # a warning, not an unexpected error's Traceback.
        faults.report("reports pending gauge", exc, "database")
    except Exception as exc:
        faults.report("reports pending gauge", exc)
