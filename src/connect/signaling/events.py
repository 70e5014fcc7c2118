"""Socket handlers of signaling and chat relay.

With an in-process session store (:attr:`RelayService.immediate`) the relays
are registered as immediate handlers, run in the socket's read callback;
with a shared store they are awaited in the frame loop. The two forms share
one table of events and one body per event.

``media-state`` and ``send-reaction`` (the partner's mic/camera state and
emoji reactions) are relays like ``typing``; a reaction is also counted
against ``CONNECT_RATE_REACTION`` per socket (in memory, like the chat
limit: a flood of reactions is the partner's screen filling with emoji, not
a cluster-wide budget), checked before the relay so a refused one never
reaches the partner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from connect.calls.service import CallService
from connect.clock import Clock
from connect.errors import ConnectError
from connect.gateway.dispatch import EventContext, Router
from connect.matching.service import MatchingService
from connect.ratelimit import LocalLimit, Rule
from connect.signaling.schemas import (
    CallStats,
    EndCall,
    MediaState,
    SendAnswer,
    SendCandidate,
    SendMessage,
    SendOffer,
    SendReaction,
    Typing,
)
from connect.signaling.service import RelayService

# Event -> (payload schema, what the partner receives: (event, body) from the payload).
RELAYS: dict[str, tuple[type[BaseModel], Callable[[Any], tuple[str, dict[str, Any]]]]] = {
    "send-offer": (SendOffer, lambda p: ("offer", {"offer": p.offer.wire()})),
    "send-answer": (SendAnswer, lambda p: ("answer", {"answer": p.answer.wire()})),
    "send-candidate": (
        SendCandidate,
        lambda p: (
            "candidate",
            {"candidate": p.candidate.wire() if p.candidate is not None else None},
        ),
    ),
    "typing": (Typing, lambda p: ("typing", {"active": p.active})),
    "media-state": (MediaState, lambda p: ("media-state", _media_state(p))),
}


def _media_state(p: MediaState) -> dict[str, Any]:
    body: dict[str, Any] = {"audio": p.audio, "video": p.video}
    if p.camera is not None:
        body["camera"] = p.camera
    return body


def register(
    router: Router,
    relay: RelayService,
    matching: MatchingService,
    calls: CallService,
    chat_rule: Rule,
    clock: Clock,
    reaction_rule: Rule | None = None,
) -> None:
    def chat_limit(ctx: EventContext) -> LocalLimit:
        limit: LocalLimit | None = ctx.client.state.get("chat_limit")
        if limit is None:
            limit = ctx.client.state["chat_limit"] = LocalLimit(chat_rule, clock)
        return limit

    reactions = reaction_rule or Rule.parse("reaction", "3/second;30/minute")

    def reaction_limit(ctx: EventContext) -> LocalLimit:
        limit: LocalLimit | None = ctx.client.state.get("reaction_limit")
        if limit is None:
            limit = ctx.client.state["reaction_limit"] = LocalLimit(reactions, clock)
        return limit

    for event, (model, shape) in RELAYS.items():
        _register_relay(router, relay, event, model, shape)

    if relay.immediate:

        def send_message_now(ctx: EventContext, p: SendMessage) -> dict[str, Any]:
            chat_limit(ctx).hit()
            return relay.message_now(ctx.client.id, p.text)

        def call_stats_now(ctx: EventContext, p: CallStats) -> None:
            relay.call_stats_now(ctx.client.id, p)

        def send_reaction_now(ctx: EventContext, p: SendReaction) -> None:
            reaction_limit(ctx).hit()
            relay.relay_now(ctx.client.id, "reaction", {"emoji": p.emoji})

        router.add_now("send-message", SendMessage, send_message_now)
        router.add_now("call-stats", CallStats, call_stats_now)
        router.add_now("send-reaction", SendReaction, send_reaction_now)
    else:

        async def send_message(ctx: EventContext, p: SendMessage) -> dict[str, Any]:
            chat_limit(ctx).hit()
            return await relay.message(ctx.client.id, p.text)

        async def call_stats(ctx: EventContext, p: CallStats) -> None:
            await relay.call_stats(ctx.client.id, p)

        async def send_reaction(ctx: EventContext, p: SendReaction) -> None:
            reaction_limit(ctx).hit()
            await relay.relay(ctx.client.id, "reaction", {"emoji": p.emoji})

        router.add("send-message", SendMessage, send_message)
        router.add("call-stats", CallStats, call_stats)
        router.add("send-reaction", SendReaction, send_reaction)

    async def end_call(ctx: EventContext, p: EndCall) -> None:
        if await calls.end_session_call(ctx.client, "hangup"):
            return
        if not await matching.end(ctx.client, "ended"):
            raise ConnectError("not_in_session", "not in a session")

    router.add("end-call", EndCall, end_call)


def _register_relay(
    router: Router,
    relay: RelayService,
    event: str,
    model: type[BaseModel],
    shape: Callable[[Any], tuple[str, dict[str, Any]]],
) -> None:
    if relay.immediate:

        def forward_now(ctx: EventContext, p: Any) -> None:
            relay.relay_now(ctx.client.id, *shape(p))

        router.add_now(event, model, forward_now)
    else:

        async def forward(ctx: EventContext, p: Any) -> None:
            await relay.relay(ctx.client.id, *shape(p))

        router.add(event, model, forward)
