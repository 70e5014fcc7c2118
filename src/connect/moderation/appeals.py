"""Appeals: one per ban, filed by the banned subject, decided by a moderator.

The banned visitor proves they may appeal with the appeal token they were
given in the ``banned`` event (or, for a logged-in subject, with a token
whose subject is the banned device or account). Accepting an appeal lifts
the ban.
"""

from __future__ import annotations

import uuid
from typing import Literal

from connect.clock import Clock, utc_now
from connect.errors import conflict, forbidden, not_found
from connect.identity.service import Principal, TokenService
from connect.moderation.audit import Actor, AuditLog
from connect.moderation.bans import BanService, subject_of_ban
from connect.moderation.store import AppealStore
from connect.observability.metrics import Metrics
from connect.storage.models import Appeal, Ban


class AppealService:
    def __init__(
        self,
        *,
        store: AppealStore,
        bans: BanService,
        audit: AuditLog,
        tokens: TokenService,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._store = store
        self._bans = bans
        self._audit = audit
        self._tokens = tokens
        self._clock = clock

    async def file(
        self,
        text: str,
        *,
        appeal_token: str | None,
        ban_id: str | None,
        principal: Principal | None,
    ) -> Appeal:
        if appeal_token is not None:
            ban_id = self._tokens.verify_appeal(appeal_token)
        ban = await self._bans.get(ban_id) if ban_id else None
        if ban is None:
            raise not_found("no such ban")
        if appeal_token is None and (
            principal is None or principal.key != subject_of_ban(ban.scope, ban.value)
        ):
            raise forbidden("only the banned subject may appeal this ban")
        if not self._bans.is_active(ban):
            raise conflict("this ban is no longer in force", "ban_not_active")
        appeal = Appeal(
            id=uuid.uuid4().hex,
            ban_id=ban.id,
            text=text,
            status="pending",
            created_at=utc_now(self._clock),
            decided_at=None,
            decided_by=None,
            note=None,
        )
        if not await self._store.add(appeal):
            raise conflict("this ban was already appealed", "already_appealed")
        return appeal

    async def list(self, status: str | None, limit: int) -> list[tuple[Appeal, Ban | None]]:
        appeals = await self._store.list(status, limit)
        return [(a, await self._bans.get(a.ban_id)) for a in appeals]

    async def count(self, status: str) -> int:
        return await self._store.count(status)

    async def decide(
        self, actor: Actor, appeal_id: str, decision: Literal["accept", "reject"], note: str | None
    ) -> Appeal:
        appeal = await self._store.get(appeal_id)
        if appeal is None:
            raise not_found("no such appeal")
        status = "accepted" if decision == "accept" else "rejected"
        if not await self._store.decide(appeal_id, status, utc_now(self._clock), actor.id, note):
            raise conflict("this appeal was already decided", "already_decided")
        if self._metrics is not None:
            self._metrics.moderation_decisions.labels(f"appeal_{status}").inc()
        await self._audit.append(
            actor, f"appeal.{decision}", "appeal", appeal_id, {"banId": appeal.ban_id, "note": note}
        )
        if decision == "accept":
            ban = await self._bans.get(appeal.ban_id)
            if ban is not None and ban.lifted_at is None:
                await self._bans.lift(actor, ban.id, note=f"appeal {appeal_id} accepted")
        decided = await self._store.get(appeal_id)
        assert decided is not None
        return decided
