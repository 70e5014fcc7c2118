"""Logins of registered accounts: starting one, refresh-token rotation, signing out, the
list of signed-in devices, and closing the sockets of a login that ended.

Refresh tokens are opaque random strings; only their SHA-256 is stored. Each
login starts a *family*; every refresh marks the presented token used and
issues the next one in the same family. A token presented a second time can
only mean that it was copied, so the whole family is revoked and both the
thief and the owner must log in again (the OAuth 2.0 Security BCP's
refresh-token rotation with reuse detection).

A family is also a row of its own (``login_families``) named by the access
tokens of that login (``fam``): revoking it (logout, a password change for
the *other* logins, a reset or a disabled account for all of them) refuses
those access tokens at the next request and closes their sockets, instead
of letting them live until they expire. Every way a login ends (logout, a
reused token, a password change or reset, a disabled or deleted account) goes
through :class:`Logins`, which closes the sockets with the tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from connect.clock import Clock, utc_now
from connect.errors import ConnectError, forbidden, unauthorized
from connect.gateway import close_codes
from connect.identity.passwords import Passwords
from connect.identity.reasons import missing
from connect.identity.service import Principal, TokenService, user_subject
from connect.identity.store import AccountStore, RefreshTokenStore
from connect.storage.models import Account, LoginFamily, RefreshToken
from connect.storage.times import aware

if TYPE_CHECKING:
    from connect.gateway.hub import Hub

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def token_hash(token: str) -> str:
    """What is stored of a refresh or reset token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def family_of(principal: Principal) -> str | None:
    """The login an access token belongs to (None for guests and tokens without ``fam``)."""
    return principal.family


class LiveLogins:
    """Closes the sockets of logins that just ended, on every node.

    Clustered, the request is broadcast (like a ban) and every node closes
    its own sockets; the sender receives its own broadcast. A socket is
    closed with 4001 so the client refreshes, is refused, and signs out.
    """

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def end(
        self, account_id: str, *, family: str | None = None, keep: str | None = None, reason: str
    ) -> None:
        message = {
            "t": "logins-ended",
            "account": account_id,
            "family": family,
            "keep": keep,
            "reason": reason,
        }
        cluster = self._hub.cluster
        if cluster is not None:
            try:
                await cluster.broadcast(message)
                return
            except Exception as exc:  # Redis down: close at least this node's sockets
                log.warning("logins_ended_broadcast_failed", error=type(exc).__name__)
        await self.end_local(account_id, family, keep, reason)

    async def on_broadcast(self, message: dict[str, Any]) -> None:
        if message.get("t") == "logins-ended":
            await self.end_local(
                str(message["account"]),
                message.get("family"),
                message.get("keep"),
                str(message.get("reason", "signed out")),
            )

    async def end_local(
        self, account_id: str, family: str | None, keep: str | None, reason: str
    ) -> int:
        closed = 0
        for client in self._hub.of_subject(user_subject(account_id)):
            fam = family_of(client.principal)
            if (family is not None and fam != family) or (keep is not None and fam == keep):
                continue
            closed += 1
            if client.conn is not None:
                client.conn.close(close_codes.UNAUTHORIZED, reason)
            else:
                await self._hub.evict(client)
        return closed


class Logins:
    def __init__(
        self,
        *,
        accounts: AccountStore,
        refresh_tokens: RefreshTokenStore,
        tokens: TokenService,
        passwords: Passwords,
        clock: Clock,
        refresh_ttl_s: int,
        live: LiveLogins | None = None,
    ) -> None:
        self._accounts = accounts
        self._refresh = refresh_tokens
        self._tokens = tokens
        self._passwords = passwords
        self._clock = clock
        self._refresh_ttl_s = refresh_ttl_s
        self._live = live

    async def login(self, email: str, password: str, browser: str | None = None) -> TokenPair:
        """Start a login; ``browser`` is the device label for the sessions list (no UA)."""
        account = await self._accounts.by_email(email.strip().lower())
        ok = await self._passwords.verify(account.password_hash if account else None, password)
        if account is None or not ok or account.deleted_at is not None:
            raise ConnectError("invalid_credentials", "wrong email or password", status=401)
        if account.disabled:
            raise forbidden("this account is disabled")
        return await self._issue(
            account, family_id=uuid.uuid4().hex, new_family=True, browser=browser
        )

    async def refresh(self, refresh_token: str) -> TokenPair:
        now = utc_now(self._clock)
        row = await self._refresh.by_hash(token_hash(refresh_token))
        if row is None or row.revoked_at is not None or aware(row.expires_at) <= now:
            raise unauthorized("invalid refresh token")
        if row.used_at is not None or not await self._refresh.mark_used(row.id, now):
            await self._refresh.revoke_family(row.family_id, now)
            await self.end_sockets(row.account_id, family=row.family_id, reason="signed out")
            raise ConnectError(
                "refresh_reused",
                "refresh token reused: all sessions of this login revoked",
                status=401,
            )
        account = await self._accounts.by_id(row.account_id)
        if account is None or account.disabled:
            raise unauthorized("account unavailable")
        await self._refresh.ensure_family(row.family_id, row.account_id, now)
        return await self._issue(account, family_id=row.family_id)

    async def logout(self, refresh_token: str, principal: Principal | None = None) -> None:
        """End the login of ``refresh_token`` (and of the access token presented with it).

        Its access tokens stop working at the next request and its sockets
        are closed, on every node.
        """
        now = utc_now(self._clock)
        ended: set[tuple[str, str]] = set()
        row = await self._refresh.by_hash(token_hash(refresh_token))
        if row is not None:
            await self._refresh.revoke_family(row.family_id, now)
            ended.add((row.account_id, row.family_id))
        family = family_of(principal) if principal is not None else None
        if principal is not None and family is not None:
            await self._refresh.revoke_family(family, now)
            ended.add((principal.subject, family))
        for account_id, fam in ended:
            await self.end_sockets(account_id, family=fam, reason="signed out")

    # -- signed-in devices ----------------------------------------------------------

    async def sessions(
        self, account_id: str, current: str | None
    ) -> list[tuple[LoginFamily, bool]]:
        """The live logins of the account, each with whether it is ``current``."""
        used_after = utc_now(self._clock) - timedelta(seconds=self._refresh_ttl_s)
        rows = await self._refresh.live_logins(account_id, used_after)
        return [(row, row.id == current) for row in rows]

    async def end_session(self, account_id: str, family_id: str) -> None:
        """Sign one login of the account out; someone else's (or an ended one) is a 404."""
        if not await self._refresh.revoke_own(account_id, family_id, utc_now(self._clock)):
            raise missing("login_not_found")
        await self.end_sockets(account_id, family=family_id, reason="signed out")

    async def end_other_sessions(self, account_id: str, keep: str | None) -> int:
        """Sign every login of the account out but ``keep``."""
        count = await self.revoke_all(account_id, keep=keep)
        await self.end_sockets(account_id, keep=keep, reason="signed out")
        return count

    async def end_every_login(self, account_id: str, reason: str) -> None:
        """Revoke every login of the account and close its sockets on every node."""
        await self.revoke_all(account_id)
        await self.end_sockets(account_id, reason=reason)

    async def revoke_all(self, account_id: str, keep: str | None = None) -> int:
        """Revoke the account's logins but ``keep`` (its sockets stay: see end_sockets)."""
        return await self._refresh.revoke_account(account_id, utc_now(self._clock), keep=keep)

    async def end_sockets(
        self, account_id: str, *, family: str | None = None, keep: str | None = None, reason: str
    ) -> None:
        if self._live is not None:
            await self._live.end(account_id, family=family, keep=keep, reason=reason)

    async def _issue(
        self,
        account: Account,
        family_id: str,
        *,
        new_family: bool = False,
        browser: str | None = None,
    ) -> TokenPair:
        refresh = secrets.token_urlsafe(32)
        now = utc_now(self._clock)
        await self._refresh.add(
            RefreshToken(
                id=uuid.uuid4().hex,
                account_id=account.id,
                family_id=family_id,
                token_hash=token_hash(refresh),
                created_at=now,
                expires_at=datetime.fromtimestamp(self._clock.now() + self._refresh_ttl_s, UTC),
                used_at=None,
                revoked_at=None,
            ),
            LoginFamily(
                id=family_id,
                account_id=account.id,
                created_at=now,
                revoked_at=None,
                browser=browser,
                last_used_at=now,
            )
            if new_family
            else None,
        )
        return TokenPair(
            self._tokens.issue_access(account.id, account.role, family_id),
            refresh,
            self._tokens.access_ttl_s,
        )
