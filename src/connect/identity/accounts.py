"""Registered accounts: sign-up, login, refresh-token rotation, roles.

Refresh tokens are opaque random strings; only their SHA-256 is stored. Each
login starts a *family*; every refresh marks the presented token used and
issues the next one in the same family. A token presented a second time can
only mean that it was copied, so the whole family is revoked and both the
thief and the owner must log in again (the OAuth 2.0 Security BCP's
refresh-token rotation with reuse detection).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connect.clock import Clock
from connect.errors import ConnectError, conflict, forbidden, not_found, unauthorized
from connect.identity.passwords import Passwords
from connect.identity.service import Principal, TokenService
from connect.identity.store import AccountStore, EmailTaken, RefreshTokenStore
from connect.storage.models import Account, RefreshToken
from connect.storage.times import aware
from connect.uploads import IMAGE_TYPES, check_upload, sniff
from connect.uploads import store as store_upload

STAFF_ROLES = ("moderator", "admin")
ROLES = ("user", *STAFF_ROLES)
AVATAR_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    ) -> None:
        self._avatars = avatars_dir
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

    async def login(self, email: str, password: str) -> TokenPair:
        account = await self._accounts.by_email(email.strip().lower())
        ok = self._passwords.verify(account.password_hash if account else None, password)
        if account is None or not ok:
            raise ConnectError("invalid_credentials", "wrong email or password", status=401)
        if account.disabled:
            raise forbidden("this account is disabled")
        return await self._issue(account, family_id=uuid.uuid4().hex)

    async def refresh(self, refresh_token: str) -> TokenPair:
        now = self._now()
        row = await self._refresh.by_hash(_hash(refresh_token))
        if row is None or row.revoked_at is not None or aware(row.expires_at) <= now:
            raise unauthorized("invalid refresh token")
        if row.used_at is not None or not await self._refresh.mark_used(row.id, now):
            await self._refresh.revoke_family(row.family_id, now)
            raise ConnectError(
                "refresh_reused",
                "refresh token reused: all sessions of this login revoked",
                status=401,
            )
        account = await self._accounts.by_id(row.account_id)
        if account is None or account.disabled:
            raise unauthorized("account unavailable")
        return await self._issue(account, family_id=row.family_id)

    async def logout(self, refresh_token: str) -> None:
        row = await self._refresh.by_hash(_hash(refresh_token))
        if row is not None:
            await self._refresh.revoke_family(row.family_id, self._now())

    async def get(self, account_id: str) -> Account:
        account = await self._accounts.by_id(account_id)
        if account is None:
            raise unauthorized("unknown account")
        return account

    async def authorize(self, principal: Principal, roles: tuple[str, ...]) -> Account:
        """The account behind an access token, if it currently holds one of ``roles``."""
        if principal.kind != "access":
            raise unauthorized("an account token is required")
        account = await self._accounts.by_id(principal.subject)
        if account is None or account.disabled:
            raise unauthorized("account unavailable")
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

    async def search(self, query: str, limit: int, exclude: str) -> list[Account]:
        return await self._accounts.search(query, limit, exclude)

    async def is_staff(self, account_id: str) -> bool:
        account = await self._accounts.by_id(account_id)
        return account is not None and account.role in STAFF_ROLES

    async def staff(self) -> list[Account]:
        return await self._accounts.with_roles(STAFF_ROLES)

    async def _issue(self, account: Account, family_id: str) -> TokenPair:
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
            )
        )
        return TokenPair(
            self._tokens.issue_access(account.id, account.role), refresh, self._tokens.access_ttl_s
        )
