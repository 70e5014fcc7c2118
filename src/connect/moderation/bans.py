"""Bans: by device, by IP (an address or a range), by account; temporary or permanent.

A ban is checked wherever a subject enters: guest token requests, login,
refresh, signup, every authenticated REST request and gateway hellos. It is
enforced on whoever is already connected through the
:class:`LiveEnforcer` port: their partner is told ``peer-ended "banned"``,
they receive ``banned {"until","reason","appeal"}`` and their socket closes
with 4003. Every ban carries an appeal token so an anonymous visitor can
appeal without an account.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any, Protocol

from connect.clock import Clock, utc_now
from connect.errors import ConnectError, attributed, conflict, not_found
from connect.events.service import NO_EVENTS, Publisher
from connect.identity.service import (
    IpHasher,
    Principal,
    TokenService,
    guest_subject,
    split_subject,
    user_subject,
)
from connect.identity.store import AccountStore
from connect.moderation.audit import Actor, AuditLog
from connect.moderation.ban_reasons import reason_code
from connect.moderation.ban_targets import BanTarget, resolve_target
from connect.moderation.ban_targets import Scope as Scope
from connect.moderation.store import BanStore
from connect.observability.metrics import Metrics
from connect.storage.models import Ban
from connect.storage.times import aware

APPEAL_URL = "/api/appeals"
APPEAL_WINDOW = timedelta(days=90)
INDEX_TTL_S = 30.0


def ban_target(subject: str) -> tuple[Scope, str]:
    """The ban ``(scope, value)`` that names a typed subject: its device or its account."""
    typed = split_subject(subject)
    if typed is None:
        return "device", subject
    kind, bare = typed
    return ("account" if kind == "access" else "device"), bare


def subject_of_ban(scope: str, value: str) -> str | None:
    """The typed subject a device or account ban names; None for an IP ban."""
    if scope == "device":
        return guest_subject(value)
    if scope == "account":
        return user_subject(value)
    return None


def _subjects(
    device_id: str | None,
    ip_hash: str | None,
    account_id: str | None,
    networks: list[str] | tuple[str, ...] = (),
) -> list[tuple[str, str]]:
    """The ``(scope, value)`` pairs a ban could name for this visitor."""
    subjects: list[tuple[str, str]] = []
    if device_id:
        subjects.append(("device", device_id))
    if ip_hash:
        subjects.append(("ip", ip_hash))
    subjects.extend(("ip", network) for network in networks)
    if account_id:
        subjects.append(("account", account_id))
    return subjects


class LiveEnforcer(Protocol):
    async def enforce(self, scope: Scope, value: str, payload: dict[str, Any]) -> int:
        """End the sessions and close the sockets of a newly banned subject; return how many."""
        ...


class StaffProtection(Protocol):
    async def is_staff(self, account_id: str) -> bool: ...


class BannedError(ConnectError):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__("banned", "you are banned", status=403, extra={"ban": payload})
        self.payload = payload


class BanService:
    def __init__(
        self,
        *,
        store: BanStore,
        audit: AuditLog,
        tokens: TokenService,
        enforcer: LiveEnforcer,
        staff: StaffProtection,
        clock: Clock,
        metrics: Metrics,
        events: Publisher = NO_EVENTS,
        ip_hasher: IpHasher | None = None,
        accounts: AccountStore | None = None,
    ) -> None:
        self._events = events
        self._ip_hasher = ip_hasher
        self._accounts = accounts
        self._prefixes: tuple[int, ...] = ()
        self._store = store
        self._audit = audit
        self._tokens = tokens
        self._enforcer = enforcer
        self._staff = staff
        self._clock = clock
        self._metrics = metrics
        self._banned: set[tuple[str, str]] | None = None
        self._banned_until = 0.0
        self._banned_generation = 0
        self._reload: asyncio.Future[set[tuple[str, str]]] | None = None

    async def ban(
        self,
        actor: Actor,
        scope: Scope,
        value: str,
        *,
        reason: str,
        duration_hours: float | None,
        report_id: str | None = None,
        automatic: bool = False,
    ) -> Ban:
        if scope == "account" and await self._staff.is_staff(value):
            raise conflict("staff accounts cannot be banned; demote first", "cannot_ban_staff")
        now = utc_now(self._clock)
        ban = Ban(
            id=uuid.uuid4().hex,
            scope=scope,
            value=value,
            reason=reason,
            created_at=now,
            created_by=actor.id,
            expires_at=None if duration_hours is None else now + timedelta(hours=duration_hours),
            lifted_at=None,
            lifted_by=None,
            report_id=report_id,
            automatic=automatic,
        )
        await self._store.add(ban)
        self.forget_index()
        await self._audit.append(
            actor,
            "ban.create",
            "ban",
            ban.id,
            {
                "scope": scope,
                "value": value,
                "reason": reason,
                "durationHours": duration_hours,
                "reportId": report_id,
                "automatic": automatic,
            },
        )
        self._metrics.bans.labels(scope, "auto" if automatic else "staff").inc()
        self._events.publish(
            "ban.issued",
            banId=ban.id,
            scope=scope,
            automatic=automatic,
            durationHours=duration_hours,
        )
        await self._enforcer.enforce(scope, value, self.payload(ban))
        return ban

    async def lift(self, actor: Actor, ban_id: str, note: str | None = None) -> Ban:
        ban = await self._store.get(ban_id)
        if ban is None:
            raise not_found("no such ban")
        if not await self._store.lift(ban_id, utc_now(self._clock), actor.id):
            raise conflict("this ban was already lifted", "already_lifted")
        self.forget_index()
        await self._audit.append(actor, "ban.lift", "ban", ban_id, {"note": note})
        self._events.publish("ban.lifted", banId=ban_id, scope=ban.scope)
        lifted = await self._store.get(ban_id)
        assert lifted is not None
        return lifted

    async def get(self, ban_id: str) -> Ban | None:
        return await self._store.get(ban_id)

    def is_active(self, ban: Ban) -> bool:
        return ban.lifted_at is None and (
            ban.expires_at is None or aware(ban.expires_at) > utc_now(self._clock)
        )

    async def active_for(
        self,
        *,
        device_id: str | None = None,
        ip_hash: str | None = None,
        account_id: str | None = None,
        networks: list[str] | tuple[str, ...] = (),
    ) -> Ban | None:
        subjects = _subjects(device_id, ip_hash, account_id, networks)
        bans = await self._store.active(subjects, utc_now(self._clock))
        return bans[0] if bans else None

    def networks(self, ip: str | None) -> list[str]:
        """The range-ban values that could hold ``ip``: its network at each prefix in use."""
        if not ip or not self._prefixes or self._ip_hasher is None:
            return []
        found = (self._ip_hasher.hash_network(ip, prefix) for prefix in self._prefixes)
        return [value for value in found if value is not None]

    async def refuse_if_banned(
        self,
        *,
        device_id: str | None = None,
        ip_hash: str | None = None,
        account_id: str | None = None,
        ip: str | None = None,
    ) -> None:
        """Refuse a banned subject, asking the database only about likely ones.

        Every hello and guest-token request asks this, and almost nobody
        asking is banned, so each node keeps the set of banned
        ``(scope, value)`` pairs in memory and queries the ban rows (for the
        payload, and to confirm) only on a hit. The set is reloaded at most
        every ``INDEX_TTL_S`` seconds and dropped at once by a ban or lift on
        this node and by the ban broadcast from other nodes (milliseconds),
        the same moment their live sockets of the subject are closed. A stale
        entry (a lifted or expired ban) costs one query, never a refusal; a
        ban missed by a lost broadcast is caught by the next reload. Measured:
        with a miss-cache per subject instead, new visitors (new device ids)
        made SQLite the first cost of the churn benchmark (~45% of the CPU).
        """
        ban = await self.banned(device_id=device_id, ip_hash=ip_hash, account_id=account_id, ip=ip)
        if ban is not None:
            raise BannedError(self.payload(ban))

    async def banned(
        self,
        *,
        device_id: str | None = None,
        ip_hash: str | None = None,
        account_id: str | None = None,
        ip: str | None = None,
    ) -> Ban | None:
        """The active ban on any of these, found through the index (see refuse_if_banned)."""
        banned = await self._banned_subjects()
        networks = self.networks(ip)
        subjects = _subjects(device_id, ip_hash, account_id, networks)
        if not any(subject in banned for subject in subjects):
            return None
        return await self.active_for(
            device_id=device_id, ip_hash=ip_hash, account_id=account_id, networks=networks
        )

    async def refuse_principal(self, principal: Principal, ip_hash: str, ip: str | None) -> None:
        """Refuse the holder of a token on every authenticated request.

        A guest is checked by device and address, an account by account and
        address. Staff accounts are exempt from address bans only, so a ban on
        a shared network cannot lock moderators out of the queue (the staff
        lookup runs only on a hit).
        """
        ban = await self.banned(
            device_id=principal.device_id, account_id=principal.account_id, ip_hash=ip_hash, ip=ip
        )
        if ban is None:
            return
        if (
            ban.scope == "ip"
            and principal.account_id is not None
            and await self._staff.is_staff(principal.account_id)
        ):
            return
        raise BannedError(self.payload(ban))

    async def _banned_subjects(self) -> set[tuple[str, str]]:
        """The index, reloaded by one query however many requests find it stale.

        When the index lapses under load, every hello and token request in
        flight finds it stale at once; each running its own query exhausted
        the database pool (measured: 500s in the churn soak). They share the
        one reload in flight instead.
        """
        now = self._clock.monotonic()
        if self._banned is not None and now < self._banned_until:
            return self._banned
        if self._reload is None:
            self._reload = asyncio.ensure_future(self._load_index(now))
            self._reload.add_done_callback(self._reload_done)
        return await asyncio.shield(self._reload)

    async def _load_index(self, now: float) -> set[tuple[str, str]]:
        """Read the index once for every waiter; an outage is attributed here, while its
        traceback is its own (see :class:`~connect.errors.DependencyDown`)."""
        generation = self._banned_generation
        try:
            banned = await self._store.active_subjects(utc_now(self._clock))
        except Exception as exc:
            failure = attributed(exc)
            if failure is exc:
                raise
            raise failure from exc
        if generation == self._banned_generation:
            self._prefixes = tuple(
                sorted({int(v.rsplit("/", 1)[1]) for s, v in banned if s == "ip" and "/" in v})
            )
            self._banned = banned
            self._banned_until = now + INDEX_TTL_S
        return banned

    def _reload_done(self, done: asyncio.Future[set[tuple[str, str]]]) -> None:
        if self._reload is done:
            self._reload = None
        if not done.cancelled():
            done.exception()  # retrieved here; every waiter re-raises it

    def forget_index(self) -> None:
        """A ban was issued or lifted (here or on another node): reload on the next check."""
        self._banned = None
        self._banned_generation += 1
        self._reload = None

    async def on_broadcast(self, message: dict[str, Any]) -> None:
        if message.get("t") == "ban":
            self.forget_index()

    async def admission(self, principal: Principal, ip_hash: str, ip: str | None = None) -> None:
        """Gateway hello check (the same rule as every REST request)."""
        await self.refuse_principal(principal, ip_hash, ip)

    async def resolve_target(self, scope: Scope, value: str) -> BanTarget:
        """What a staff member's typed value names (see :mod:`ban_targets`)."""
        return await resolve_target(scope, value, self._ip_hasher, self._accounts)

    async def search(self, query: str | None, active_only: bool, limit: int) -> list[Ban]:
        return await self._store.search(query, active_only, utc_now(self._clock), limit)

    async def count_active(self) -> int:
        return await self._store.count_active(utc_now(self._clock))

    def payload(self, ban: Ban) -> dict[str, Any]:
        """What a banned visitor is told: until when, why, and how to appeal."""
        until = aware(ban.expires_at) if ban.expires_at is not None else None
        appeal_until = (until or utc_now(self._clock) + APPEAL_WINDOW).timestamp()
        payload: dict[str, Any] = {
            "until": until.isoformat() if until else None,
            "reason": ban.reason,
            "appeal": {
                "banId": ban.id,
                "token": self._tokens.issue_appeal(
                    ban.id, max(appeal_until, self._clock.now() + 3600)
                ),
                "url": APPEAL_URL,
            },
        }
        coded = reason_code(ban.reason, ban.automatic)
        if coded is not None:
            payload["reasonCode"], payload["reasonParams"] = coded
        return payload
