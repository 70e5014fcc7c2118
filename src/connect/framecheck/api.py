"""``POST /api/strangers/sessions/{sessionId}/frames``: a visitor's sampled camera frame.

The body is the raw JPEG (``Content-Type: image/jpeg``), the caller the
visitor's bearer token (guest or account), as on every strangers route; bans
bite through :data:`~connect.deps.CurrentPrincipal`. The answer is 202
whether or not the frame was queued: the client learns nothing about scores.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Request

from connect.deps import CurrentPrincipal, ServicesDep
from connect.framecheck.schemas import FrameQueued

router = APIRouter(prefix="/api/strangers", tags=["strangers"])

JPEG_BODY = {
    "requestBody": {
        "required": True,
        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/sessions/{session_id}/frames",
    status_code=202,
    response_model=FrameQueued,
    openapi_extra=JPEG_BODY,
)
async def send_frame(
    request: Request,
    principal: CurrentPrincipal,
    svc: ServicesDep,
    session_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
) -> FrameQueued:
    """Queue one sampled frame of the caller's own camera for the classifier.

    403 when the caller is not a member of the session or its frames are not
    checked; 404 unknown session; 409 ``session_ended``; 400 ``invalid_frame``;
    413 over CONNECT_FRAMECHECK_MAX_BYTES; 429 faster than CONNECT_RATE_FRAMES.
    """
    body = await request.body()
    queued = await svc.framecheck.submit(
        principal, session_id, body, request.headers.get("content-type")
    )
    return FrameQueued(queued=queued)
