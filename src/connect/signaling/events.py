"""Socket handlers of signaling and chat relay."""

from __future__ import annotations

from typing import Any

from connect.calls.service import CallService
from connect.clock import Clock
from connect.errors import ConnectError
from connect.gateway.dispatch import EventContext, Router
from connect.matching.service import MatchingService
from connect.ratelimit import LocalLimit, Rule
from connect.signaling.schemas import (
    CallStats,
    EndCall,
    SendAnswer,
    SendCandidate,
    SendMessage,
    SendOffer,
    Typing,
)
from connect.signaling.service import RelayService


def register(
    router: Router,
    relay: RelayService,
    matching: MatchingService,
    calls: CallService,
    chat_rule: Rule,
    clock: Clock,
) -> None:
    async def send_offer(ctx: EventContext, p: SendOffer) -> None:
        await relay.relay(ctx.client.id, "offer", {"offer": p.offer.wire()})

    async def send_answer(ctx: EventContext, p: SendAnswer) -> None:
        await relay.relay(ctx.client.id, "answer", {"answer": p.answer.wire()})

    async def send_candidate(ctx: EventContext, p: SendCandidate) -> None:
        candidate = p.candidate.wire() if p.candidate is not None else None
        await relay.relay(ctx.client.id, "candidate", {"candidate": candidate})

    async def send_message(ctx: EventContext, p: SendMessage) -> dict[str, Any]:
        limit = ctx.client.state.get("chat_limit")
        if limit is None:
            limit = ctx.client.state["chat_limit"] = LocalLimit(chat_rule, clock)
        limit.hit()
        return await relay.message(ctx.client.id, p.text)

    async def typing(ctx: EventContext, p: Typing) -> None:
        await relay.relay(ctx.client.id, "typing", {"active": p.active})

    async def end_call(ctx: EventContext, p: EndCall) -> None:
        if await calls.end_session_call(ctx.client, "hangup"):
            return
        if not await matching.end(ctx.client, "ended"):
            raise ConnectError("not_in_session", "not in a session")

    async def call_stats(ctx: EventContext, p: CallStats) -> None:
        await relay.call_stats(ctx.client.id, p)

    router.add("send-offer", SendOffer, send_offer)
    router.add("send-answer", SendAnswer, send_answer)
    router.add("send-candidate", SendCandidate, send_candidate)
    router.add("send-message", SendMessage, send_message)
    router.add("typing", Typing, typing)
    router.add("end-call", EndCall, end_call)
    router.add("call-stats", CallStats, call_stats)
