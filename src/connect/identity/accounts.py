"""Registered accounts: sign-up, login, refresh-token rotation, roles.

Why one ~540-line module: every step of a login's life (sign-up, login,
refresh rotation, logout, password change and reset, role and standing
changes) starts or ends login families through the same rows and the same
LiveLogins; keeping them together keeps those invariants in one place. Mail is
in mail.py, device labels in devices.py, deletion and export in privacy.py.

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
of letting them live until they expire.

Password resets mail a single-use, expiring token whose SHA-256 alone is
stored. Asking for one always answers the same, at once: the lookup, the
token and the mail happen in a background task, so neither the answer nor
its timing says whether an account exists.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from connect.clock import Clock
from connect.errors import ConnectError, conflict, forbidden, not_found, unauthorized
from connect.gateway import close_codes
from connect.identity.mail import Mailer, reset_message
from connect.identity.passwords import Passwords
from connect.identity.service import Principal, TokenService, user_subject
from connect.identity.store import (
    AccountStore,
    EmailTaken,
    LastAdmin,
    PasswordResetStore,
    RefreshTokenStore,
)
from connect.moderation.audit import Actor, AuditLog
from connect.storage.models import Account, LoginFamily, PasswordReset, RefreshToken
from connect.storage.times import aware
from connect.uploads import IMAGE_TYPES, check_upload, sniff
from connect.uploads import store as store_upload

if TYPE_CHECKING:
    from connect.gateway.hub import Hub

log = structlog.get_logger(__name__)

STAFF_ROLES = ("moderator", "admin")
ROLES = ("user", *STAFF_ROLES)
AVATAR_MAX_BYTES = 1024 * 1024
# Expired reset tokens are kept this long (for nothing but a support question), then purged.
RESET_KEEP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _hash(token: str) -> str:
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


class AccountService:
    def __init__(
        self,
        *,
        accounts: AccountStore,
        refresh_tokens: RefreshTokenStore,
        tokens: TokenService,
        passwords: Passwords,
        clock: Clock,
        refresh_ttl_s: int,
        avatars_dir: Path,
        resets: PasswordResetStore | None = None,
        mailer: Mailer | None = None,
        audit: AuditLog | None = None,
        logins: LiveLogins | None = None,
        reset_ttl_s: int = 1800,
        web_origin: str = "http://127.0.0.1:8000",
        mail_from: str = "Connect <noreply@localhost>",
    ) -> None:
        self._avatars = avatars_dir
        self._resets = resets
        self._mailer = mailer
        self._audit = audit
        self._logins = logins
        self._reset_ttl_s = reset_ttl_s
        self._web_origin = web_origin
        self._mail_from = mail_from
        self._background: set[asyncio.Task[None]] = set()
        self._accounts = accounts
        self._refresh = refresh_tokens
        self._tokens = tokens
        self._passwords = passwords
        self._clock = clock
        self._refresh_ttl_s = refresh_ttl_s

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)

    async def create(
        self, email: str, password: str, display_name: str, role: str = "user"
    ) -> Account:
        if role not in ROLES:
            raise ConnectError("invalid_request", f"unknown role {role!r}")
        account = Account(
            id=uuid.uuid4().hex,
            email=email.strip().lower(),
            password_hash=self._passwords.hash(password),
            display_name=display_name.strip(),
            role=role,
            disabled=False,
            created_at=self._now(),
        )
        try:
            await self._accounts.add(account)
        except EmailTaken as exc:
            raise conflict("an account with this email exists", "email_taken") from exc
        return account

    async def login(self, email: str, password: str, browser: str | None = None) -> TokenPair:
        """Start a login; ``browser`` is the device label for the sessions list (no UA)."""
        account = await self._accounts.by_email(email.strip().lower())
        ok = self._passwords.verify(account.password_hash if account else None, password)
        if account is None or not ok or account.deleted_at is not None:
            raise ConnectError("invalid_credentials", "wrong email or password", status=401)
        if account.disabled:
            raise forbidden("this account is disabled")
        return await self._issue(
            account, family_id=uuid.uuid4().hex, new_family=True, browser=browser
        )

    async def refresh(self, refresh_token: str) -> TokenPair:
        now = self._now()
        row = await self._refresh.by_hash(_hash(refresh_token))
        if row is None or row.revoked_at is not None or aware(row.expires_at) <= now:
            raise unauthorized("invalid refresh token")
        if row.used_at is not None or not await self._refresh.mark_used(row.id, now):
            await self._refresh.revoke_family(row.family_id, now)
            await self._end_sockets(row.account_id, family=row.family_id, reason="signed out")
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
        now = self._now()
        ended: set[tuple[str, str]] = set()
        row = await self._refresh.by_hash(_hash(refresh_token))
        if row is not None:
            await self._refresh.revoke_family(row.family_id, now)
            ended.add((row.account_id, row.family_id))
        family = family_of(principal) if principal is not None else None
        if principal is not None and family is not None:
            await self._refresh.revoke_family(family, now)
            ended.add((principal.subject, family))
        for account_id, fam in ended:
            await self._end_sockets(account_id, family=fam, reason="signed out")

    async def get(self, account_id: str) -> Account:
        account = await self._accounts.by_id(account_id)
        if account is None:
            raise unauthorized("unknown account")
        return account

    async def authorize(self, principal: Principal, roles: tuple[str, ...]) -> Account:
        """The account behind an access token, if it currently holds one of ``roles``."""
        if principal.kind != "access":
            raise unauthorized("an account token is required")
        account, live = await self._accounts.with_family(principal.subject, family_of(principal))
        if account is None or account.disabled:
            raise unauthorized("account unavailable")
        if not live:
            raise unauthorized("this login has ended: log in again")
        if account.role not in roles:
            raise forbidden("your role may not do this")
        return account

    async def update_profile(self, account_id: str, display_name: str) -> None:
        await self._accounts.update_profile(account_id, display_name.strip())

    async def set_avatar(self, account_id: str, data: bytes) -> None:
        """Store a new avatar (an image, by content) and forget the old file."""
        kind = check_upload(data, IMAGE_TYPES, AVATAR_MAX_BYTES)
        name = store_upload(self._avatars, data, kind)
        account = await self.get(account_id)
        old = account.avatar_path
        await self._accounts.set_avatar(account_id, name)
        if old:
            (self._avatars / old).unlink(missing_ok=True)

    async def avatar_file(self, account_id: str) -> tuple[Path, str]:
        account = await self._accounts.by_id(account_id)
        if (
            account is None
            or not account.avatar_path
            or not (self._avatars / account.avatar_path).is_file()
        ):
            raise not_found("no avatar")
        return self._avatars / account.avatar_path, sniff(
            (self._avatars / account.avatar_path).read_bytes()[:64]
        ) or "application/octet-stream"

    async def search(self, query: str, limit: int, searcher: str) -> list[Account]:
        """People to start a conversation with: by display name or exact email, never
        staff (they are not contacts, and their ids must not be easy to learn), never
        anyone who blocked ``searcher``."""
        return await self._accounts.search(query, limit, searcher, STAFF_ROLES)

    async def is_staff(self, account_id: str) -> bool:
        account = await self._accounts.by_id(account_id)
        return account is not None and account.role in STAFF_ROLES

    async def staff(self) -> list[Account]:
        return await self._accounts.with_roles(STAFF_ROLES)

    async def admission(self, principal: Principal, ip_hash: str, ip: str | None = None) -> None:
        """Gateway hello check: an account token must belong to a live login of an
        enabled account (the same test as every REST request)."""
        if principal.kind == "access":
            await self.authorize(principal, ROLES)

    # -- password change and reset ---------------------------------------------------

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        """Set a new password; every *other* login of the account ends.

        The login making the change stays (the user is not thrown out of the
        page they are on); a token without ``fam`` keeps none.
        """
        account = await self.authorize(principal, ROLES)
        if not self._passwords.verify(account.password_hash, current):
            raise ConnectError("wrong_password", "the current password is wrong", status=403)
        keep = family_of(principal)
        await self._accounts.set_password(account.id, self._passwords.hash(new))
        await self._refresh.revoke_account(account.id, self._now(), keep=keep)
        if self._resets is not None:
            await self._resets.invalidate(account.id, self._now())
        await self._end_sockets(account.id, keep=keep, reason="password changed")

    @property
    def can_mail(self) -> bool:
        return self._mailer is not None and self._resets is not None

    def request_reset(self, email: str) -> None:
        """Start a reset for ``email`` in the background; never says whether it exists."""
        if not self.can_mail:
            raise ConnectError(
                "mail_not_configured",
                "password reset by mail is not available on this server; ask an administrator",
                status=503,
            )
        self._spawn(self._send_reset(email.strip().lower()))

    async def _send_reset(self, email: str) -> None:
        assert self._resets is not None
        assert self._mailer is not None
        account = await self._accounts.by_email(email)
        if account is None or account.disabled:
            return
        token = secrets.token_urlsafe(32)
        now = self._now()
        await self._resets.replace(
            PasswordReset(
                id=uuid.uuid4().hex,
                account_id=account.id,
                token_hash=_hash(token),
                created_at=now,
                expires_at=now + timedelta(seconds=self._reset_ttl_s),
                used_at=None,
            )
        )
        link = f"{self._web_origin}/#/contacts/reset/{token}"
        await self._mailer.send(
            reset_message(
                sender=self._mail_from,
                to=account.email,
                link=link,
                valid_minutes=self._reset_ttl_s // 60,
            )
        )
        log.info("password_reset_mailed")
        await self._resets.purge(now - RESET_KEEP)

    async def confirm_reset(self, token: str, new_password: str) -> None:
        """Spend a reset token: set the password and end every login of the account."""
        invalid = ConnectError(
            "invalid_reset_token", "this reset link is invalid, used or expired", status=400
        )
        if self._resets is None:
            raise invalid
        account_id = await self._resets.consume(_hash(token), self._now())
        if account_id is None:
            raise invalid
        account = await self._accounts.by_id(account_id)
        if account is None or account.disabled:
            raise invalid
        await self._accounts.set_password(account.id, self._passwords.hash(new_password))
        await self._refresh.revoke_account(account.id, self._now())
        await self._end_sockets(account.id, reason="password reset")

    # -- staff: roles and disabled accounts --------------------------------------------

    async def change_standing(
        self, actor: Actor, account_id: str, *, role: str | None, disabled: bool | None
    ) -> Account:
        """An admin changes someone's role and/or disables or re-enables them (audited).

        Never oneself, never the last active admin. Disabling ends every login
        and closes the account's sockets; re-enabling does not bring them back.
        """
        if role is not None and role not in ROLES:
            raise ConnectError("invalid_request", f"unknown role {role!r}")
        if account_id == actor.id:
            raise conflict(
                "you cannot change your own role or disable yourself", "cannot_change_self"
            )
        before = await self._accounts.by_id(account_id)
        if before is None:
            raise not_found("no such account")
        if before.deleted_at is not None:
            # Re-enabling would bring back an account its owner deleted (with no email).
            raise conflict("this account was deleted by its owner", "account_deleted")
        old_role, was_disabled = before.role, before.disabled
        try:
            after = await self._accounts.change_standing(account_id, role=role, disabled=disabled)
        except LastAdmin as exc:
            raise conflict(
                "this is the last active admin: make another admin first", "last_admin"
            ) from exc
        if after is None:
            raise not_found("no such account")
        if self._audit is not None and after.role != old_role:
            await self._audit.append(
                actor, "account.role", "account", after.id, {"from": old_role, "to": after.role}
            )
        if self._audit is not None and after.disabled != was_disabled:
            action = "account.disable" if after.disabled else "account.enable"
            await self._audit.append(actor, action, "account", after.id, {"role": after.role})
        if after.disabled and not was_disabled:
            await self._refresh.revoke_account(after.id, self._now())
            await self._end_sockets(after.id, reason="account disabled")
        return after

    async def find(self, account_id: str | None = None, email: str | None = None) -> Account:
        """One account by id or exact email, for admins (404 otherwise)."""
        account = None
        if account_id:
            account = await self._accounts.by_id(account_id)
        elif email:
            account = await self._accounts.by_email(email.strip().lower())
        if account is None:
            raise not_found("no such account")
        return account

    # -- signed-in devices ----------------------------------------------------------

    async def sessions(self, principal: Principal) -> list[tuple[LoginFamily, bool]]:
        """The live logins of the caller's account, each with whether it is the caller's."""
        account = await self.authorize(principal, ROLES)
        used_after = self._now() - timedelta(seconds=self._refresh_ttl_s)
        current = family_of(principal)
        rows = await self._refresh.live_logins(account.id, used_after)
        return [(row, row.id == current) for row in rows]

    async def end_session(self, principal: Principal, family_id: str) -> None:
        """Sign one of my logins out; someone else's (or an ended one) is a 404."""
        account = await self.authorize(principal, ROLES)
        if not await self._refresh.revoke_own(account.id, family_id, self._now()):
            raise not_found("no such session")
        await self._end_sockets(account.id, family=family_id, reason="signed out")

    async def end_other_sessions(self, principal: Principal) -> int:
        """Sign every login of my account out but the one making the request."""
        account = await self.authorize(principal, ROLES)
        keep = family_of(principal)
        count = await self._refresh.revoke_account(account.id, self._now(), keep=keep)
        await self._end_sockets(account.id, keep=keep, reason="signed out")
        return count

    def password_matches(self, account: Account, password: str) -> bool:
        return self._passwords.verify(account.password_hash, password)

    async def end_every_login(self, account_id: str, reason: str) -> None:
        """Revoke every login of the account and close its sockets on every node."""
        await self._refresh.revoke_account(account_id, self._now())
        await self._end_sockets(account_id, reason=reason)

    # -- internals ------------------------------------------------------------------

    async def _end_sockets(
        self, account_id: str, *, family: str | None = None, keep: str | None = None, reason: str
    ) -> None:
        if self._logins is not None:
            await self._logins.end(account_id, family=family, keep=keep, reason=reason)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The error's type only: the message may carry the address or the server's reply.
            log.warning("password_reset_mail_failed", error=type(exc).__name__)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Let mails being sent finish (shutdown), then give up on the rest."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout_s)

    async def _issue(
        self,
        account: Account,
        family_id: str,
        *,
        new_family: bool = False,
        browser: str | None = None,
    ) -> TokenPair:
        refresh = secrets.token_urlsafe(32)
        now = self._now()
        await self._refresh.add(
            RefreshToken(
                id=uuid.uuid4().hex,
                account_id=account.id,
                family_id=family_id,
                token_hash=_hash(refresh),
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
