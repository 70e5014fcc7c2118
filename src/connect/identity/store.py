"""Accounts and refresh tokens in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from connect.storage.db import Database
from connect.storage.models import Account, RefreshToken


class EmailTaken(Exception):
    pass


class AccountStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, account: Account) -> None:
        async with self._db.session() as s:
            s.add(account)
            try:
                await s.commit()
            except IntegrityError as exc:
                raise EmailTaken from exc

    async def by_email(self, email: str) -> Account | None:
        async with self._db.session() as s:
            return await s.scalar(select(Account).where(Account.email == email))

    async def by_id(self, account_id: str) -> Account | None:
        async with self._db.session() as s:
            return await s.get(Account, account_id)

    async def with_roles(self, roles: tuple[str, ...]) -> list[Account]:
        async with self._db.session() as s:
            rows = await s.scalars(
                select(Account).where(Account.role.in_(roles)).order_by(Account.created_at)
            )
            return list(rows)

    async def search(self, query: str, limit: int, exclude: str) -> list[Account]:
        pattern = f"%{query.lower()}%"
        async with self._db.session() as s:
            rows = await s.scalars(
                select(Account)
                .where(
                    Account.id != exclude,
                    Account.disabled.is_(False),
                    or_(
                        func.lower(Account.display_name).like(pattern), Account.email.like(pattern)
                    ),
                )
                .order_by(Account.display_name)
                .limit(limit)
            )
            return list(rows)

    async def set_avatar(self, account_id: str, path: str) -> None:
        async with self._db.session() as s:
            await s.execute(
                update(Account).where(Account.id == account_id).values(avatar_path=path)
            )
            await s.commit()

    async def update_profile(self, account_id: str, display_name: str) -> None:
        async with self._db.session() as s:
            await s.execute(
                update(Account).where(Account.id == account_id).values(display_name=display_name)
            )
            await s.commit()


class RefreshTokenStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, token: RefreshToken) -> None:
        async with self._db.session() as s:
            s.add(token)
            await s.commit()

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        async with self._db.session() as s:
            return await s.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))

    async def mark_used(self, token_id: str, at: datetime) -> bool:
        """Mark a token used; False if someone else used it first (a concurrent replay)."""
        async with self._db.session() as s:
            result = await s.execute(
                update(RefreshToken)
                .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
                .values(used_at=at)
            )
            await s.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_family(self, family_id: str, at: datetime) -> None:
        async with self._db.session() as s:
            await s.execute(
                update(RefreshToken)
                .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            await s.commit()
