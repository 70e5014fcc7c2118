"""Storage of "my data": the SQL reads of an export and the one transaction of a deletion.

Kept apart from :mod:`connect.identity.privacy` (which streams the ZIP and
orders the deletion's steps) so each file has one job, as in the other
feature packages' ``store`` rooms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, delete, func, or_, select, update

from connect.errors import ConnectError
from connect.identity.service import user_subject
from connect.storage.db import Database
from connect.storage.models import (
    Account,
    Attachment,
    Block,
    Call,
    Channel,
    LoginFamily,
    Message,
    PasswordReset,
    PresenceSetting,
    Reaction,
    Report,
)

DELETED_NAME = "Deleted account"
# An address that can never be typed into the sign-up or login form (.invalid is reserved,
# RFC 2606), unique by the account id: the real address is free to sign up again.
DELETED_EMAIL = "deleted-{id}@deleted.invalid"
# Not an argon2 hash: verifying any password against it is False.
UNUSABLE_PASSWORD = "!deleted"  # noqa: S105 (a marker, not a secret)
PAGE = 500
_Row = TypeVar("_Row")


@dataclass(frozen=True, slots=True)
class Wiped:
    """What deleting an account removed from disk (for the caller to unlink)."""

    avatar: str | None
    attachments: list[str]
    messages_kept: int


class PrivacyStore:
    """The SQL reads of an export and the one transaction of a deletion."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def channels_of(self, me: str) -> list[tuple[Channel, Account | None]]:
        async with self._db.session() as s:
            channels = list(
                await s.scalars(
                    select(Channel)
                    .where(or_(Channel.user_a == me, Channel.user_b == me))
                    .order_by(Channel.created_at, Channel.id)
                )
            )
            peers = {c.user_b if c.user_a == me else c.user_a for c in channels}
            accounts = {
                a.id: a for a in await s.scalars(select(Account).where(Account.id.in_(peers)))
            }
            return [(c, accounts.get(c.user_b if c.user_a == me else c.user_a)) for c in channels]

    async def _page(self, query: Select[_Row]) -> list[_Row]:
        """One export page: ``query`` (already filtered and ordered) cut to PAGE rows."""
        async with self._db.session() as s:
            return list(await s.scalars(query.limit(PAGE)))

    async def messages(self, channel_id: str, after: int) -> list[Message]:
        return await self._page(
            select(Message)
            .where(Message.channel_id == channel_id, Message.seq > after)
            .order_by(Message.seq)
        )

    async def attachments(self, me: str, after: str) -> list[Attachment]:
        return await self._page(
            select(Attachment)
            .where(Attachment.uploader_id == me, Attachment.id > after)
            .order_by(Attachment.id)
        )

    async def calls(self, me: str, after: str) -> list[Call]:
        return await self._page(
            select(Call)
            .where(or_(Call.caller_id == me, Call.callee_id == me), Call.id > after)
            .order_by(Call.id)
        )

    async def blocks(self, me: str) -> list[Block]:
        async with self._db.session() as s:
            return list(
                await s.scalars(
                    select(Block).where(Block.blocker_id == me).order_by(Block.created_at)
                )
            )

    async def reports_by(self, me: str) -> list[tuple[str, datetime]]:
        """Reports I filed (typed subject, or the bare id of rows older than 0008)."""
        async with self._db.session() as s:
            rows = await s.execute(
                select(Report.id, Report.created_at)
                .where(Report.reporter_subject.in_((user_subject(me), me)))
                .order_by(Report.created_at)
            )
            return [(r[0], r[1]) for r in rows]

    async def presence(self, me: str) -> PresenceSetting | None:
        async with self._db.session() as s:
            return await s.get(PresenceSetting, me)

    async def wipe(self, me: str, at: datetime) -> Wiped:
        """Anonymise the account and remove what is only its own, in one transaction."""
        async with self._db.session() as s:
            account = await s.get(Account, me, with_for_update=True)
            if account is None or account.deleted_at is not None:
                raise ConnectError("unauthorized", "account unavailable", status=401)
            avatar = account.avatar_path
            files = list(
                await s.scalars(select(Attachment.path).where(Attachment.uploader_id == me))
            )
            mine = select(Attachment.id).where(Attachment.uploader_id == me)
            await s.execute(
                update(Message)
                .where(Message.attachment_id.in_(mine))
                .values(attachment_id=None)
                .execution_options(synchronize_session=False)
            )
            await s.execute(delete(Attachment).where(Attachment.uploader_id == me))
            await s.execute(delete(Reaction).where(Reaction.user_id == me))
            await s.execute(delete(Block).where(Block.blocker_id == me))
            # Hidden rather than deleted: a socket closing on another node just after this
            # would recreate a deleted row (last seen, default visibility) and show it.
            presence = await s.get(PresenceSetting, me)
            if presence is None:
                s.add(PresenceSetting(account_id=me, visibility="nobody", last_seen_at=None))
            else:
                presence.visibility = "nobody"
                presence.last_seen_at = None
            await s.execute(delete(PasswordReset).where(PasswordReset.account_id == me))
            await s.execute(
                update(LoginFamily)
                .where(LoginFamily.account_id == me)
                .values(browser=None, revoked_at=at)
            )
            kept = await s.scalar(select(func.count()).where(Message.sender_id == me)) or 0
            account.email = DELETED_EMAIL.format(id=me)
            account.password_hash = UNUSABLE_PASSWORD
            account.display_name = DELETED_NAME
            account.avatar_path = None
            account.disabled = True
            account.deleted_at = at
            await s.commit()
            return Wiped(avatar=avatar, attachments=files, messages_kept=kept)
