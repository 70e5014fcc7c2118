"""The record of each direct call: its events and quality samples, and the view of a
call with them (one call, or a user's history).

Owns what is written about a call besides its status: the event rows each transition
adds (:mod:`connect.calls.service` decides the transitions and appends through
:meth:`CallRecords.event`), the call-stats samples the relay hands over mid-call, stored
in the background, and the ``CallOut`` shape the API returns. Kept apart from the
transitions because none of it decides a call's state: it only writes down and reads
back what happened.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any

from connect.calls.schemas import CallEventOut, CallOut, CallQuality
from connect.calls.store import CallStore
from connect.clock import Clock, utc_now
from connect.contacts.service import user_out
from connect.errors import faults
from connect.identity.service import split_subject
from connect.identity.store import AccountStore
from connect.signaling.schemas import CallStats
from connect.storage.models import Call, CallEvent, CallSample
from connect.storage.times import aware


class CallRecords:
    def __init__(self, *, store: CallStore, accounts: AccountStore, clock: Clock) -> None:
        self._store = store
        self._accounts = accounts
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        # One writer per call on this node: a side's samples are compared with its
        # previous one (ICE state changes), so they are stored in arrival order.
        self._recording: dict[str, asyncio.Lock] = {}

    async def event(
        self,
        call_id: str,
        kind: str,
        user_id: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self._store.add_event(
            CallEvent(
                id=uuid.uuid4().hex,
                call_id=call_id,
                at=utc_now(self._clock),
                kind=kind,
                user_id=user_id,
                detail=detail,
            )
        )

    def record_stats(self, call_id: str, subject: str, stats: CallStats) -> None:
        """A call-stats frame of a direct call (from the relay, possibly in a socket's read
        callback): stored in the background, best effort like the frame itself."""
        typed = split_subject(subject)
        if typed is None or typed[0] != "access":
            return
        task = asyncio.get_running_loop().create_task(
            self._guarded(self._record_stats(call_id, typed[1], stats))
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record_stats(self, call_id: str, user_id: str, stats: CallStats) -> None:
        lock = self._recording.setdefault(call_id, asyncio.Lock())
        try:
            async with lock:
                await self._record_sample(call_id, user_id, stats)
        finally:
            if not lock.locked() and self._recording.get(call_id) is lock:
                del self._recording[call_id]

    async def _record_sample(self, call_id: str, user_id: str, stats: CallStats) -> None:
        previous = await self._store.add_sample(
            CallSample(
                id=uuid.uuid4().hex,
                call_id=call_id,
                user_id=user_id,
                at=utc_now(self._clock),
                ice_state=stats.ice_state,
                candidate_type=stats.candidate_type,
                rtt_ms=stats.rtt_ms,
                loss_pct=stats.loss_pct,
                bitrate_kbps=stats.bitrate_kbps,
            )
        )
        if previous is not None and previous != stats.ice_state:
            await self.event(call_id, "ice", user_id, {"state": stats.ice_state})
        if stats.restart:
            await self.event(call_id, "restart", user_id, None)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as exc:
            faults.report("call record", exc)

    async def view(
        self,
        call: Call,
        events: list[CallEvent] | None = None,
        quality: dict[str, Any] | None = None,
    ) -> CallOut:
        if events is None:
            events = (await self._store.events_of([call.id])).get(call.id, [])
            quality = (await self._store.quality_of([call.id])).get(call.id)
        caller = await self._accounts.by_id(call.caller_id)
        callee = await self._accounts.by_id(call.callee_id)
        assert caller is not None
        assert callee is not None
        answered, ended = aware(call.answered_at), aware(call.ended_at)
        return CallOut(
            call_id=call.id,
            status=call.status,
            caller=user_out(caller),
            callee=user_out(callee),
            media=call.media,
            created_at=aware(call.created_at) or utc_now(self._clock),
            answered_at=answered,
            ended_at=ended,
            end_reason=call.end_reason,
            duration_s=(ended - answered).total_seconds() if answered and ended else None,
            events=[
                CallEventOut(
                    at=aware(e.at) or utc_now(self._clock),
                    kind=e.kind,
                    user_id=e.user_id,
                    detail=e.detail,
                )
                for e in events
            ],
            quality=CallQuality(**quality) if quality is not None else None,
        )

    async def history(self, me: str, limit: int) -> list[CallOut]:
        calls = await self._store.history(me, limit)
        ids = [c.id for c in calls]
        events, quality = await self._store.events_of(ids), await self._store.quality_of(ids)
        return [await self.view(c, events.get(c.id, []), quality.get(c.id)) for c in calls]
