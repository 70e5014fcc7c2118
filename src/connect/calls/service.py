"""Direct calls between accounts: ring every device, one answers, the call becomes a session.

State lives in SQL (history, and the compare-and-set that decides which of
several devices answered first); the live part — which two connections carry
the call — is a session of the session service, so signaling relays exactly
as in a random chat. Transitions follow :mod:`connect.calls.machine`.

Which connection carries the call: the caller's and callee's requests may
name their gateway ``connectionId``; without one, the user's most recently
connected device is used.

What is written about each call besides its status (its events, quality samples, and
the view read back) is :mod:`connect.calls.records`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Protocol

from connect.calls.machine import Action, Role, next_status
from connect.calls.records import CallRecords
from connect.calls.schemas import CallAccepted, CallOut, IncomingCall
from connect.calls.store import CallStore
from connect.clock import Clock, utc_now
from connect.contacts.reasons import refused
from connect.contacts.service import user_out
from connect.delivery import Deliverer
from connect.errors import ConnectError, bad_request, conflict
from connect.events.service import NO_EVENTS, Publisher
from connect.gateway.connection import Client
from connect.identity.service import user_subject
from connect.identity.store import AccountStore
from connect.observability.metrics import Metrics
from connect.sessions.models import Member
from connect.sessions.service import SessionService, new_peer_id
from connect.signaling.schemas import CallStats
from connect.storage.models import Call
from connect.storage.times import aware
from connect.turn.service import TurnService


class Blocks(Protocol):
    async def refuse_if_blocked(self, me: str, other: str) -> None: ...


class Places(Protocol):
    async def present(self, subject: str) -> bool: ...


class Presence(Protocol):
    async def live(self, subject: str) -> list[Client]: ...

    def get(self, client_id: str) -> Client | None: ...


class CallService:
    def __init__(
        self,
        *,
        store: CallStore,
        accounts: AccountStore,
        sessions: SessionService,
        presence: Presence,
        deliverer: Deliverer,
        turn: TurnService,
        clock: Clock,
        ring_timeout_s: float,
        metrics: Metrics,
        events: Publisher = NO_EVENTS,
        blocks: Blocks | None = None,
        places: Places | None = None,
    ) -> None:
        self._blocks = blocks
        self._places = places
        self._records = CallRecords(store=store, accounts=accounts, clock=clock)
        self._events = events
        self._store = store
        self._accounts = accounts
        self._sessions = sessions
        self._presence = presence
        self._deliver = deliverer
        self._turn = turn
        self._clock = clock
        self._ring_timeout = timedelta(seconds=ring_timeout_s)
        self._metrics = metrics
        self._caller_conn: dict[str, str] = {}

    async def invite(self, me: str, callee_id: str, media: str, connection_id: str | None) -> Call:
        if callee_id == me:
            raise bad_request("you cannot call yourself", "cannot_call_self")
        callee = await self._accounts.by_id(callee_id)
        caller = await self._accounts.by_id(me)
        if callee is None or callee.disabled or caller is None:
            raise refused("user_not_found")
        if self._blocks is not None:
            # Refused before anything is stored or rung: a blocker's devices never ring.
            await self._blocks.refuse_if_blocked(me, callee_id)
        if await self._store.active_of(me):
            raise conflict("you are already in a call", "already_in_call")
        call = Call(
            id=uuid.uuid4().hex,
            caller_id=me,
            callee_id=callee_id,
            media=media,
            status="ringing",
            created_at=utc_now(self._clock),
            answered_at=None,
            ended_at=None,
            end_reason=None,
            session_id=None,
        )
        if await self._store.active_of(callee_id):
            call.status = "busy"
            call.ended_at = call.created_at
            call.end_reason = "busy"
            await self._store.add(call)
            self._metrics.calls.labels("busy").inc()
            self._events.publish(
                "call.outcome", callId=call.id, media=media, status="busy", durationS=None
            )
            await self._records.event(call.id, "busy", me)
            raise conflict("the person you called is in another call", "busy")
        if self._places is not None and not await self._places.present(user_subject(callee_id)):
            # Nobody to ring: say so at once and leave the callee a missed call.
            call.status = "missed"
            call.ended_at = call.created_at
            call.end_reason = "offline"
            await self._store.add(call)
            await self._records.event(call.id, "offline", me)
            self._metrics.calls.labels("missed").inc()
            self._events.publish(
                "call.outcome", callId=call.id, media=media, status="missed", durationS=None
            )
            raise conflict("the person you called is not online", "callee_offline")
        await self._store.add(call)
        await self._records.event(call.id, "ringing", me)
        if connection_id is not None:
            self._caller_conn[call.id] = connection_id
        ring = IncomingCall(call_id=call.id, caller=user_out(caller), media=media)
        self._deliver.deliver_subject(user_subject(callee_id), "incoming-call", ring.wire())
        return call

    async def respond(self, me: str, call_id: str, accept: bool, connection_id: str | None) -> Call:
        call = await self._get_party(me, call_id)
        role = self._role(call, me)
        if not accept:
            return await self._finish(call, "reject", role, reason="rejected")
        next_status(call.status, "accept", role)
        callee_client = await self._pick(me, connection_id)
        caller_client = await self._pick(call.caller_id, self._caller_conn.get(call.id))
        if callee_client is None:
            raise conflict(
                "answer from a connected device (no live gateway connection)", "no_device"
            )
        if caller_client is None:
            await self._finish(call, "cancel", "caller", reason="caller_gone")
            raise conflict("the caller is no longer connected", "caller_gone")
        if not await self._store.transition(
            call.id, "ringing", status="accepted", answered_at=utc_now(self._clock)
        ):
            raise refused("call_state_changed")
        a = Member(
            caller_client.id,
            new_peer_id(),
            user_subject(call.caller_id),
            caller_client.ip_hash,
            "access",
        )
        b = Member(
            callee_client.id, new_peer_id(), user_subject(me), callee_client.ip_hash, "access"
        )
        session = await self._sessions.start(call.media, a, b, [], call_id=call.id)
        await self._store.transition(call.id, "accepted", session_id=session.id)
        await self._records.event(call.id, "accepted", me)
        self._caller_conn.pop(call.id, None)
        for member, peer, initiator in ((a, b, True), (b, a, False)):
            ice = self._turn.ice_config(member.subject).ice_servers
            accepted = CallAccepted(
                call_id=call.id,
                session_id=session.id,
                peer_id=peer.peer_id,
                initiator=initiator,
                media=call.media,
                ice_servers=ice,
            )
            self._deliver.deliver(member.client_id, "call-accepted", accepted.wire())
        elsewhere = CallAccepted(call_id=call.id, answered_elsewhere=True).wire()
        for user in (call.caller_id, me):
            for client in await self._presence.live(user_subject(user)):
                if client.id not in (a.client_id, b.client_id):
                    self._deliver.deliver(client.id, "call-accepted", elsewhere)
        self._metrics.calls.labels("accepted").inc()
        fresh = await self._store.get(call.id)
        assert fresh is not None
        return fresh

    async def drop_ringing_between(self, me: str, other: str) -> int:
        """After ``me`` blocks ``other``: a call still ringing between them stops ringing
        (declined or cancelled by ``me``). An accepted call is left to hang up."""
        dropped = 0
        for call in await self._store.active_of(me):
            if call.status != "ringing" or other not in (call.caller_id, call.callee_id):
                continue
            role = self._role(call, me)
            try:
                await self._finish(
                    call, "cancel" if role == "caller" else "reject", role, reason="blocked"
                )
                dropped += 1
            except ConnectError:
                continue  # answered or ended meanwhile
        return dropped

    async def end(self, me: str, call_id: str, reason: str = "hangup") -> Call:
        call = await self._get_party(me, call_id)
        role = self._role(call, me)
        if call.status == "ringing":
            action: Action = "cancel" if role == "caller" else "reject"
            return await self._finish(
                call, action, role, reason="cancelled" if role == "caller" else "rejected"
            )
        return await self._finish(call, "hangup", role, reason=reason)

    async def end_session_call(self, client: Client, reason: str) -> bool:
        """End the call carried by the client's session, if any (end-call, disconnect)."""
        session = await self._sessions.current(client.id)
        if session is None or session.call_id is None:
            return False
        call = await self._store.get(session.call_id)
        if call is None or call.status != "accepted":
            return False
        await self._finish(
            call, "hangup", self._role(call, client.account_id), reason=reason, by_client=client
        )
        return True

    async def expire_ringing(self) -> int:
        """Ringing calls older than the ring timeout become missed."""
        calls = await self._store.ringing_before(utc_now(self._clock) - self._ring_timeout)
        for call in calls:
            try:
                await self._finish(call, "timeout", "clock", reason="missed")
            except ConnectError:
                continue
        return len(calls)

    async def get(self, me: str, call_id: str) -> CallOut:
        return await self._records.view(await self._get_party(me, call_id))

    async def history(self, me: str, limit: int) -> list[CallOut]:
        return await self._records.history(me, limit)

    async def view(self, call: Call) -> CallOut:
        return await self._records.view(call)

    def record_stats(self, call_id: str, subject: str, stats: CallStats) -> None:
        """A call-stats frame of a direct call (from the relay): see :class:`CallRecords`."""
        self._records.record_stats(call_id, subject, stats)

    # Gateway lifecycle: losing the socket that carries a call ends the call once the
    # resume grace period is over (the session machinery tells the partner meanwhile).

    async def on_suspend(self, client: Client) -> None:
        return None

    async def on_resume(self, client: Client) -> None:
        return None

    async def on_gone(self, client: Client) -> None:
        """A member's place is gone: its call ends. When the other side ended the call at
        the same moment (both went away, or a hang-up crossed the disconnect), that end
        stands and there is nothing to do: the race is not a fault."""
        try:
            await self.end_session_call(client, "disconnected")
        except ConnectError as exc:
            if exc.reason != "call_state_changed":
                raise

    async def _finish(
        self,
        call: Call,
        action: Action,
        role: Role,
        *,
        reason: str,
        by_client: Client | None = None,
    ) -> Call:
        status = next_status(call.status, action, role)
        if not await self._store.transition(
            call.id, call.status, status=status, ended_at=utc_now(self._clock), end_reason=reason
        ):
            raise refused("call_state_changed")
        self._caller_conn.pop(call.id, None)
        actor = None if role == "clock" else call.caller_id if role == "caller" else call.callee_id
        await self._records.event(call.id, status, actor, {"reason": reason})
        self._metrics.calls.labels(status).inc()
        answered = aware(call.answered_at)
        self._events.publish(
            "call.outcome",
            callId=call.id,
            media=call.media,
            status=status,
            reason=reason,
            durationS=round((utc_now(self._clock) - answered).total_seconds(), 3)
            if answered
            else None,
        )
        event, payload = {
            "rejected": ("call-rejected", {"callId": call.id}),
            "missed": ("call-missed", {"callId": call.id}),
        }.get(status, ("call-ended", {"callId": call.id, "reason": reason}))
        if status == "ended" and call.session_id:
            session = await self._sessions.get(call.session_id)
            if session is not None and session.ended_at is None:
                await self._sessions.end(session.members[0].client_id, reason)
        for user in (call.caller_id, call.callee_id):
            if by_client is None:
                # Every place of both, on any node: a device whose socket is being
                # resumed gets the outcome with its gap instead of ringing on.
                self._deliver.deliver_subject(user_subject(user), event, payload)
                continue
            for client in await self._presence.live(user_subject(user)):
                if client.id != by_client.id:
                    self._deliver.deliver(client.id, event, payload)
        fresh = await self._store.get(call.id)
        assert fresh is not None
        return fresh

    async def _get_party(self, me: str, call_id: str) -> Call:
        call = await self._store.get(call_id)
        if call is None or me not in (call.caller_id, call.callee_id):
            raise refused("call_not_found")
        return call

    @staticmethod
    def _role(call: Call, me: str | None) -> Role:
        return "caller" if call.caller_id == me else "callee"

    async def _pick(self, user: str, connection_id: str | None) -> Client | None:
        live = await self._presence.live(user_subject(user))
        if connection_id is not None:
            for client in live:
                if client.id == connection_id:
                    return client
        return live[0] if live else None
