"""Calls in SQL: the durable history and the source of truth for a call's state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from connect.storage.db import Database
from connect.storage.models import Call


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
