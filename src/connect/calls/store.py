"""Calls in SQL: the durable history and the source of truth for a call's state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update

from connect.storage.db import Database
from connect.storage.models import Call, CallEvent, CallSample

EVENTS_PER_CALL = 100
SAMPLES_PER_CALL = 600


class CallStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, call: Call) -> None:
        async with self._db.session() as s:
            s.add(call)
            await s.commit()

    async def get(self, call_id: str) -> Call | None:
        async with self._db.session() as s:
            return await s.get(Call, call_id)

    async def transition(self, call_id: str, expected: str, **values: Any) -> bool:
        """Compare-and-set the status, so two devices racing to answer cannot both win."""
        async with self._db.session() as s:
            result = await s.execute(
                update(Call).where(Call.id == call_id, Call.status == expected).values(**values)
            )
            await s.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def active_of(self, user_id: str) -> list[Call]:
        async with self._db.session() as s:
            q = select(Call).where(
                or_(Call.caller_id == user_id, Call.callee_id == user_id),
                Call.status.in_(("ringing", "accepted")),
            )
            return list(await s.scalars(q))

    async def ringing_before(self, before: datetime) -> list[Call]:
        async with self._db.session() as s:
            q = select(Call).where(Call.status == "ringing", Call.created_at <= before)
            return list(await s.scalars(q))

    async def history(self, user_id: str, limit: int) -> list[Call]:
        async with self._db.session() as s:
            q = (
                select(Call)
                .where(or_(Call.caller_id == user_id, Call.callee_id == user_id))
                .order_by(Call.created_at.desc())
                .limit(limit)
            )
            return list(await s.scalars(q))

    # The per-call record (ext): events and the call-stats samples of both sides.

    async def add_event(self, event: CallEvent) -> bool:
        """Append an event unless the call has :data:`EVENTS_PER_CALL` already."""
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count())
                .select_from(CallEvent)
                .where(CallEvent.call_id == event.call_id)
            )
            if (n or 0) >= EVENTS_PER_CALL:
                return False
            s.add(event)
            await s.commit()
            return True

    async def add_sample(self, sample: CallSample) -> str | None:
        """Keep a sample (bounded per call); return the ICE state of this side's previous
        sample ("" when it is the first, None when the sample was not kept)."""
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count())
                .select_from(CallSample)
                .where(CallSample.call_id == sample.call_id)
            )
            if (n or 0) >= SAMPLES_PER_CALL:
                return None
            previous = await s.scalar(
                select(CallSample.ice_state)
                .where(CallSample.call_id == sample.call_id, CallSample.user_id == sample.user_id)
                .order_by(CallSample.at.desc())
                .limit(1)
            )
            s.add(sample)
            await s.commit()
            return previous or ""

    async def events_of(self, call_ids: Sequence[str]) -> dict[str, list[CallEvent]]:
        if not call_ids:
            return {}
        async with self._db.session() as s:
            rows = await s.scalars(
                select(CallEvent).where(CallEvent.call_id.in_(call_ids)).order_by(CallEvent.at)
            )
            out: dict[str, list[CallEvent]] = {}
            for row in rows:
                out.setdefault(row.call_id, []).append(row)
            return out

    async def quality_of(self, call_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Per call: sample count, RTT/loss averages and maxima, bitrate average, the
        candidate types seen (two grouped queries for any number of calls)."""
        if not call_ids:
            return {}
        async with self._db.session() as s:
            rows = await s.execute(
                select(
                    CallSample.call_id,
                    func.count(),
                    func.avg(CallSample.rtt_ms),
                    func.max(CallSample.rtt_ms),
                    func.avg(CallSample.loss_pct),
                    func.max(CallSample.loss_pct),
                    func.avg(CallSample.bitrate_kbps),
                )
                .where(CallSample.call_id.in_(call_ids))
                .group_by(CallSample.call_id)
            )
            out: dict[str, dict[str, Any]] = {}
            for cid, n, rtt_avg, rtt_max, loss_avg, loss_max, kbps in rows:
                out[cid] = {
                    "samples": int(n),
                    "rtt_ms_avg": _num(rtt_avg),
                    "rtt_ms_max": _num(rtt_max),
                    "loss_pct_avg": _num(loss_avg),
                    "loss_pct_max": _num(loss_max),
                    "bitrate_kbps_avg": _num(kbps),
                    "candidate_types": [],
                }
            kinds = await s.execute(
                select(CallSample.call_id, CallSample.candidate_type)
                .where(CallSample.call_id.in_(call_ids), CallSample.candidate_type.is_not(None))
                .distinct()
            )
            for cid, kind in kinds:
                if cid in out and kind:
                    out[cid]["candidate_types"].append(kind)
            for q in out.values():
                q["candidate_types"].sort()
            return out


def _num(value: object) -> float | None:
    return None if value is None else round(float(value), 1)  # type: ignore[arg-type]
