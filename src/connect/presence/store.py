"""Where presence comes from: the settings table (SQL) and the gateway's places.

Whether someone is online is never stored: it is read from the registry of
gateway places, in process for one node (:class:`HubPlaces`) or in Redis for
a cluster (:class:`RedisPlaces`), so a node that dies cannot leave anyone
"online" — its places are ended by the survivors and vanish from the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connect.gateway.hub import Hub
from connect.storage.db import Database
from connect.storage.models import PresenceSetting
from connect.storage.redis import PREFIX


class Places(Protocol):
    async def present(self, subject: str) -> bool:
        """True while ``subject`` holds a gateway place (live or awaiting a resume)."""
        ...


class HubPlaces:
    """One node: the hub's own table of places (suspended ones included)."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def present(self, subject: str) -> bool:
        return bool(self._hub.of_subject(subject))


class RedisPlaces:
    """Many nodes: the cluster registry (``subj:<subject>`` → place ids, ``conn:<id>``).

    A place id whose record is gone (ended) does not count, whatever the set says.
    """

    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def present(self, subject: str) -> bool:
        ids = await self._r.smembers(f"{PREFIX}subj:{subject}")
        if not ids:
            return False
        async with self._r.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.exists(f"{PREFIX}conn:{cid.decode() if isinstance(cid, bytes) else cid}")
            found = await pipe.execute()
        return any(found)


class PresenceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def settings(self, account_ids: Sequence[str]) -> dict[str, PresenceSetting]:
        if not account_ids:
            return {}
        async with self._db.session() as s:
            rows = await s.scalars(
                select(PresenceSetting).where(PresenceSetting.account_id.in_(account_ids))
            )
            return {r.account_id: r for r in rows}

    async def _upsert(self, account_id: str, **values: object) -> None:
        async with self._db.session() as s:
            row = await s.get(PresenceSetting, account_id)
            if row is None:
                s.add(
                    PresenceSetting(account_id=account_id, **{"visibility": "contacts", **values})
                )
                try:
                    await s.commit()
                    return
                except IntegrityError:
                    await s.rollback()
                row = await s.get(PresenceSetting, account_id)
                assert row is not None
            for key, value in values.items():
                setattr(row, key, value)
            await s.commit()

    async def set_visibility(self, account_id: str, visibility: str) -> None:
        await self._upsert(account_id, visibility=visibility)

    async def seen(self, account_id: str, at: datetime) -> None:
        await self._upsert(account_id, last_seen_at=at)
