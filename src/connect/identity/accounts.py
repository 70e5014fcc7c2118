"""Registered accounts: sign-up, who may do what (roles, standing), profile and avatar,
finding people; and ``AccountService``, the one object the rest of the server holds.

The account's logins (tokens, refresh rotation, devices, closing sockets) are
logins.py's, a new password (change, reset by mail) is resets.py's; the service
hands those calls on, so its callers keep one object. Mail is in mail.py,
device labels in devices.py, deletion and export in privacy.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from connect.clock import Clock, utc_now
from connect.errors import ConnectError, conflict, forbidden, unauthorized
from connect.identity.logins import LiveLogins as LiveLogins  # services.py imports it from here
from connect.identity.logins import Logins, TokenPair, family_of
from connect.identity.mail import Mailer
from connect.identity.passwords import Passwords
from connect.identity.reasons import missing
from connect.identity.resets import PasswordResets
from connect.identity.service import Principal, TokenService
from connect.identity.store import (
    AccountStore,
    EmailTaken,
    LastAdmin,
    PasswordResetStore,
    RefreshTokenStore,
)
from connect.moderation.audit import Actor, AuditLog
from connect.storage.models import Account, LoginFamily
from connect.uploads import IMAGE_TYPES, check_upload, sniff
from connect.uploads import store as store_upload

STAFF_ROLES = ("moderator", "admin")
ROLES = ("user", *STAFF_ROLES)
AVATAR_MAX_BYTES = 1024 * 1024


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
        self._accounts = accounts
        self._passwords = passwords
        self._clock = clock
        self._avatars = avatars_dir
        self._audit = audit
        self._logins = Logins(
            accounts=accounts,
            refresh_tokens=refresh_tokens,
            tokens=tokens,
            passwords=passwords,
            clock=clock,
            refresh_ttl_s=refresh_ttl_s,
            live=logins,
        )
        self._resets = PasswordResets(
            accounts=accounts,
            passwords=passwords,
            logins=self._logins,
            clock=clock,
            resets=resets,
            mailer=mailer,
            reset_ttl_s=reset_ttl_s,
            web_origin=web_origin,
            mail_from=mail_from,
        )

    async def create(
        self, email: str, password: str, display_name: str, role: str = "user"
    ) -> Account:
        if role not in ROLES:
            raise ConnectError("invalid_request", f"unknown role {role!r}")
        password_hash = await self._passwords.hash(password)
        account = Account(
            id=uuid.uuid4().hex,
            email=email.strip().lower(),
            password_hash=password_hash,
            display_name=display_name.strip(),
            role=role,
            disabled=False,
            created_at=utc_now(self._clock),
        )
        try:
            await self._accounts.add(account)
        except EmailTaken as exc:
            raise conflict("an account with this email exists", "email_taken") from exc
        return account

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
            raise missing("avatar_not_found")
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
            raise missing("account_not_found")
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
            raise missing("account_not_found")
        if self._audit is not None and after.role != old_role:
            await self._audit.append(
                actor, "account.role", "account", after.id, {"from": old_role, "to": after.role}
            )
        if self._audit is not None and after.disabled != was_disabled:
            action = "account.disable" if after.disabled else "account.enable"
            await self._audit.append(actor, action, "account", after.id, {"role": after.role})
        if after.disabled and not was_disabled:
            await self._logins.end_every_login(after.id, "account disabled")
        return after

    async def find(self, account_id: str | None = None, email: str | None = None) -> Account:
        """One account by id or exact email, for admins (404 otherwise)."""
        account = None
        if account_id:
            account = await self._accounts.by_id(account_id)
        elif email:
            account = await self._accounts.by_email(email.strip().lower())
        if account is None:
            raise missing("account_not_found")
        return account

    async def password_matches(self, account: Account, password: str) -> bool:
        return await self._passwords.verify(account.password_hash, password)

    # -- logins (logins.py) ---------------------------------------------------------

    async def login(self, email: str, password: str, browser: str | None = None) -> TokenPair:
        return await self._logins.login(email, password, browser)

    async def refresh(self, refresh_token: str) -> TokenPair:
        return await self._logins.refresh(refresh_token)

    async def logout(self, refresh_token: str, principal: Principal | None = None) -> None:
        await self._logins.logout(refresh_token, principal)

    async def sessions(self, principal: Principal) -> list[tuple[LoginFamily, bool]]:
        """The live logins of the caller's account, each with whether it is the caller's."""
        account = await self.authorize(principal, ROLES)
        return await self._logins.sessions(account.id, family_of(principal))

    async def end_session(self, principal: Principal, family_id: str) -> None:
        """Sign one of my logins out; someone else's (or an ended one) is a 404."""
        account = await self.authorize(principal, ROLES)
        await self._logins.end_session(account.id, family_id)

    async def end_other_sessions(self, principal: Principal) -> int:
        """Sign every login of my account out but the one making the request."""
        account = await self.authorize(principal, ROLES)
        return await self._logins.end_other_sessions(account.id, family_of(principal))

    async def end_every_login(self, account_id: str, reason: str) -> None:
        await self._logins.end_every_login(account_id, reason)

    # -- a new password (resets.py) -------------------------------------------------

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        """Set a new password; every *other* login of the account ends."""
        account = await self.authorize(principal, ROLES)
        await self._resets.change(account, family_of(principal), current, new)

    @property
    def can_mail(self) -> bool:
        return self._resets.can_mail

    def request_reset(self, email: str) -> None:
        self._resets.request(email)

    async def confirm_reset(self, token: str, new_password: str) -> None:
        await self._resets.confirm(token, new_password)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Let mails being sent finish (shutdown), then give up on the rest."""
        await self._resets.drain(timeout_s)
