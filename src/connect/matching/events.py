"""Socket handlers of matchmaking: join-queue, leave-queue, next."""

from __future__ import annotations

from typing import Any

from connect.gateway.dispatch import EventContext, Router
from connect.matching.schemas import Empty, JoinAck, JoinQueue
from connect.matching.service import MatchingService
from connect.ratelimit import RateLimiter, Rule


def register(
    router: Router, matching: MatchingService, limiter: RateLimiter, join_rule: Rule
) -> None:
    async def join_queue(ctx: EventContext, payload: JoinQueue) -> dict[str, Any]:
        await limiter.hit(join_rule, ctx.client.subject)
        ticket = await matching.prepare_join(
            ctx.client, payload.model_copy(update={"peer_id": None})
        )
        ctx.later(lambda: matching.enqueue(ticket))
        return JoinAck(queued=True).wire()

    async def leave_queue(ctx: EventContext, payload: Empty) -> dict[str, Any]:
        await matching.leave(ctx.client)
        return JoinAck(queued=False).wire()

    async def next_(ctx: EventContext, payload: Empty) -> dict[str, Any]:
        await limiter.hit(join_rule, ctx.client.subject)
        ticket = await matching.prepare_next(ctx.client)
        if ticket is not None:
            ctx.later(lambda: matching.enqueue(ticket))
        return JoinAck(queued=True).wire()

    router.add("join-queue", JoinQueue, join_queue)
    router.add("leave-queue", Empty, leave_queue)
    router.add("next", Empty, next_)
