"""The audit log: every staff (and automatic) action, append-only and hash-chained.

Each entry stores the hash of the entry before it (the first one stores 64
zeros) and its own hash::

    hash = SHA-256(prev_hash || canonical JSON of {seq, at, actor, role,
                                                   action, target, details})

Changing, removing or reordering any stored row breaks the equality for
that row or the link from the next one, and :meth:`AuditLog.verify` names the
first row where that happens. (A chain proves integrity against edits of the
table, not against someone who rewrites every later row too; anchoring the
head hash elsewhere, e.g. in the logs, covers that.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from connect.clock import Clock
from connect.moderation.store import AuditStore, ChainConflict
from connect.storage.models import AuditEntry
from connect.storage.times import aware

log = structlog.get_logger(__name__)
GENESIS = "0" * 64
APPEND_RETRIES = 5


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    role: str


SYSTEM = Actor("system", "system")


@dataclass(frozen=True, slots=True)
class ChainCheck:
    ok: bool
    checked: int
    first_broken_seq: int | None
    problem: str | None
    head_hash: str


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    body = {
        "seq": entry.seq,
        "at": aware(entry.at).isoformat(),
        "actor": entry.actor_id,
        "role": entry.actor_role,
        "action": entry.action,
        "target": [entry.target_type, entry.target_id],
        "details": entry.details,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


class AuditLog:
    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def append(
        self,
        actor: Actor,
        action: str,
        target_type: str,
        target_id: str,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        for _ in range(APPEND_RETRIES):
            head = await self._store.head()
            prev = head.hash if head is not None else GENESIS
            entry = AuditEntry(
                seq=(head.seq + 1) if head is not None else 1,
                at=datetime.fromtimestamp(round(self._clock.now(), 6), UTC),
                actor_id=actor.id,
                actor_role=actor.role,
                action=action,
                target_type=target_type,
                target_id=target_id,
                details=details or {},
                prev_hash=prev,
                hash="",
            )
            entry.hash = entry_hash(prev, entry)
            try:
                await self._store.add(entry)
            except ChainConflict:
                continue
            log.info("audit", seq=entry.seq, action=action, actor=actor.id, head=entry.hash[:16])
            return entry
        raise RuntimeError("audit log: could not append after retries (contention)")

    async def latest(self, action: str) -> AuditEntry | None:
        return await self._store.latest(action)

    async def verify(self) -> ChainCheck:
        prev = GENESIS
        expected_seq = 1
        checked = 0
        async for entry in self._store.walk():
            checked += 1
            if entry.seq != expected_seq:
                return ChainCheck(
                    False, checked, entry.seq, f"gap: expected seq {expected_seq}", prev
                )
            if entry.prev_hash != prev:
                return ChainCheck(
                    False, checked, entry.seq, "prev_hash does not link to the previous row", prev
                )
            if entry_hash(prev, entry) != entry.hash:
                return ChainCheck(
                    False, checked, entry.seq, "row content does not match its hash", prev
                )
            prev = entry.hash
            expected_seq += 1
        return ChainCheck(True, checked, None, None, prev)

    async def page(self, limit: int, before: int | None) -> list[AuditEntry]:
        return await self._store.page(limit, before)
