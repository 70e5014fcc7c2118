"""Socket handlers of matchmaking: join-queue, leave-queue, next, queue-status."""

from __future__ import annotations

from typing import Any, Protocol

from connect.delivery import Deliverer
from connect.gateway.dispatch import EventContext, Router
from connect.matching.schemas import (
    Empty,
    JoinAck,
    JoinedAck,
    JoinQueue,
    Next,
    QueueStatusRequest,
)
from connect.matching.service import MatchingService
from connect.moderation.abuse import CaptchaRequired
from connect.ratelimit import RateLimiter, Rule

QUEUED = JoinAck(queued=True).wire()
LEFT = JoinAck(queued=False).wire()


class CaptchaGate(Protocol):
    def check(self, device_id: str, ip_hash: str) -> None: ...


def register(
    router: Router,
    matching: MatchingService,
    limiter: RateLimiter,
    join_rule: Rule,
    gate: CaptchaGate,
    deliverer: Deliverer,
) -> None:
    async def admit(ctx: EventContext) -> None:
        """Rate-limit entry to the queue and hold it until a demanded CAPTCHA is solved."""
        await limiter.hit(join_rule, ctx.client.subject)
        try:
            gate.check(ctx.client.subject, ctx.client.ip_hash)
        except CaptchaRequired as exc:
            deliverer.deliver(ctx.client.id, "captcha-required", {"challenge": exc.challenge})
            raise

    async def join_queue(ctx: EventContext, payload: JoinQueue) -> dict[str, Any]:
        await admit(ctx)
        ticket = await matching.prepare_join(ctx.client, payload)
        ctx.later(lambda: matching.enqueue(ticket))
        return JoinedAck(queued=True, country=ticket.country).wire()

    async def leave_queue(ctx: EventContext, payload: Empty) -> dict[str, Any]:
        await matching.leave(ctx.client)
        return LEFT

    async def next_(ctx: EventContext, payload: Next) -> dict[str, Any]:
        await admit(ctx)
        ticket = await matching.prepare_next(
            ctx.client, avoid=payload.avoid, session_id=payload.session_id
        )
        if ticket is not None:
            ctx.later(lambda: matching.enqueue(ticket))
        return QUEUED

    async def queue_status(ctx: EventContext, payload: QueueStatusRequest) -> dict[str, Any]:
        """Counts only (cached once a second per node): the socket's event budget bounds it."""
        return (await matching.queue_status(ctx.client, payload.mode)).wire()

    router.add("join-queue", JoinQueue, join_queue)
    router.add("queue-status", QueueStatusRequest, queue_status)
    router.add("leave-queue", Empty, leave_queue)
    router.add("next", Next, next_)
