"""Channels, messages, reactions, attachments and blocks in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from connect.storage.db import Database
from connect.storage.models import Account, Attachment, Block, Channel, Message, Reaction


class DuplicateClientId(Exception):
    def __init__(self, existing: Message) -> None:
        super().__init__("duplicate client id")
        self.existing = existing


class ContactStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def channel_for_pair(self, channel: Channel) -> Channel:
        """Insert ``channel`` unless the pair already has one; return the pair's channel."""
        async with self._db.session() as s:
            s.add(channel)
            try:
                await s.commit()
                return channel
            except IntegrityError:
                await s.rollback()
        async with self._db.session() as s:
            existing = await s.scalar(
                select(Channel).where(
                    Channel.user_a == channel.user_a, Channel.user_b == channel.user_b
                )
            )
            assert existing is not None
            return existing

    async def channel(self, channel_id: str) -> Channel | None:
        async with self._db.session() as s:
            return await s.get(Channel, channel_id)

    async def channels_of(self, user_id: str) -> list[Channel]:
        async with self._db.session() as s:
            q = select(Channel).where(or_(Channel.user_a == user_id, Channel.user_b == user_id))
            return list(
                await s.scalars(q.order_by(Channel.last_seq.desc(), Channel.created_at.desc()))
            )

    async def add_message(self, message: Message) -> Message:
        """Append with the next ``seq``; a repeated client id raises with the original."""
        async with self._db.session() as s:
            try:
                seq = await s.scalar(
                    update(Channel)
                    .where(Channel.id == message.channel_id)
                    .values(last_seq=Channel.last_seq + 1)
                    .returning(Channel.last_seq)
                )
                assert seq is not None
                message.seq = seq
                s.add(message)
                await s.commit()
                return message
            except IntegrityError:
                await s.rollback()
        existing = await self.by_client_id(message.channel_id, message.sender_id, message.client_id)
        if existing is None:
            raise RuntimeError("message insert failed without a duplicate")
        raise DuplicateClientId(existing)

    async def by_client_id(self, channel_id: str, sender_id: str, client_id: str) -> Message | None:
        async with self._db.session() as s:
            return await s.scalar(
                select(Message).where(
                    Message.channel_id == channel_id,
                    Message.sender_id == sender_id,
                    Message.client_id == client_id,
                )
            )

    async def message(self, message_id: str) -> Message | None:
        async with self._db.session() as s:
            return await s.get(Message, message_id)

    async def messages(self, channel_id: str, after: int, limit: int) -> list[Message]:
        async with self._db.session() as s:
            q = (
                select(Message)
                .where(Message.channel_id == channel_id, Message.seq > after)
                .order_by(Message.seq)
                .limit(limit)
            )
            return list(await s.scalars(q))

    async def recent_messages(self, channel_id: str, limit: int) -> list[Message]:
        """The latest ``limit`` messages of a channel, oldest first."""
        async with self._db.session() as s:
            q = (
                select(Message)
                .where(Message.channel_id == channel_id)
                .order_by(Message.seq.desc())
                .limit(limit)
            )
            return list(reversed(list(await s.scalars(q))))

    async def last_message(self, channel_id: str) -> Message | None:
        async with self._db.session() as s:
            return await s.scalar(
                select(Message)
                .where(Message.channel_id == channel_id)
                .order_by(Message.seq.desc())
                .limit(1)
            )

    async def unread(self, channel: Channel, user_id: str) -> int:
        read = channel.read_seq_a if channel.user_a == user_id else channel.read_seq_b
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.channel_id == channel.id,
                    Message.seq > read,
                    Message.sender_id != user_id,
                )
            )
            return int(n or 0)

    async def mark_read(
        self, channel: Channel, user_id: str, seq: int, at: datetime, *, receipts: bool = True
    ) -> bool:
        """Advance ``user_id``'s read pointer to ``seq``; False when it was there already.

        With ``receipts`` the other member's messages up to ``seq`` get ``read_at`` (and
        ``delivered_at`` if no device acked them: reading implies delivery), in the same
        transaction as the pointer.
        """
        column = Channel.read_seq_a if channel.user_a == user_id else Channel.read_seq_b
        async with self._db.session() as s:
            result = await s.execute(
                update(Channel)
                .where(Channel.id == channel.id, column < seq)
                .values({column.key: seq})
            )
            moved = bool(result.rowcount)  # type: ignore[attr-defined]
            if moved and receipts:
                mine = (
                    Message.channel_id == channel.id,
                    Message.recipient_id == user_id,
                    Message.seq <= seq,
                )
                await s.execute(
                    update(Message)
                    .where(*mine, Message.delivered_at.is_(None))
                    .values(delivered_at=at)
                )
                await s.execute(
                    update(Message).where(*mine, Message.read_at.is_(None)).values(read_at=at)
                )
            await s.commit()
            return moved

    async def messages_by_id(self, ids: Sequence[str]) -> list[Message]:
        if not ids:
            return []
        async with self._db.session() as s:
            return list(await s.scalars(select(Message).where(Message.id.in_(ids))))

    async def edit_message(self, message_id: str, text: str, at: datetime) -> Message | None:
        """Replace the text of a message that is not deleted; None if it was deleted meanwhile."""
        async with self._db.session() as s:
            result = await s.execute(
                update(Message)
                .where(Message.id == message_id, Message.deleted_at.is_(None))
                .values(text=text, edited_at=at)
            )
            await s.commit()
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            return await s.get(Message, message_id, populate_existing=True)

    async def delete_message(self, message_id: str, at: datetime) -> tuple[bool, str | None]:
        """Turn a message into a tombstone: text and attachment gone, reactions removed.

        Returns whether this call deleted it (False: it was a tombstone already) and the
        stored file name of its attachment, whose row is deleted here (the caller removes
        the file; the uploader's quota no longer counts it).
        """
        async with self._db.session() as s:
            message = await s.get(Message, message_id, with_for_update=True)
            if message is None or message.deleted_at is not None:
                return False, None
            attachment_id = message.attachment_id
            result = await s.execute(
                update(Message)
                .where(Message.id == message_id, Message.deleted_at.is_(None))
                .values(text="", attachment_id=None, deleted_at=at)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                await s.rollback()
                return False, None
            await s.execute(delete(Reaction).where(Reaction.message_id == message_id))
            path: str | None = None
            if attachment_id is not None:
                attachment = await s.get(Attachment, attachment_id)
                if attachment is not None:
                    path = attachment.path
                    await s.delete(attachment)
            await s.commit()
            return True, path

    async def search(
        self, channel_id: str, needle: str, before: int | None, limit: int
    ) -> list[Message]:
        """Messages whose text contains ``needle`` (case-insensitive), newest first.

        ``LIKE`` with ``%``, ``_`` and the escape character escaped, on ``lower()`` of
        both sides: the same on SQLite and PostgreSQL. The scan is bounded to one
        channel (indexed by channel and seq) and ``limit`` rows.
        """
        escaped = needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = select(Message).where(
            Message.channel_id == channel_id,
            Message.deleted_at.is_(None),
            func.lower(Message.text).like(f"%{escaped}%", escape="\\"),
        )
        if before is not None:
            q = q.where(Message.seq < before)
        async with self._db.session() as s:
            return list(await s.scalars(q.order_by(Message.seq.desc()).limit(limit)))

    async def reaction_count(self, message_id: str, user_id: str) -> int:
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count())
                .select_from(Reaction)
                .where(Reaction.message_id == message_id, Reaction.user_id == user_id)
            )
            return int(n or 0)

    async def peers_of(self, user_id: str) -> list[str]:
        """Everyone who shares a channel with ``user_id`` and is not blocked either way."""
        async with self._db.session() as s:
            rows = await s.execute(
                select(Channel.user_a, Channel.user_b).where(
                    or_(Channel.user_a == user_id, Channel.user_b == user_id)
                )
            )
            peers = {b if a == user_id else a for a, b in rows}
            blocked = await s.execute(
                select(Block.blocker_id, Block.blocked_id).where(
                    or_(Block.blocker_id == user_id, Block.blocked_id == user_id)
                )
            )
            for blocker, blockee in blocked:
                peers.discard(blockee if blocker == user_id else blocker)
            return sorted(peers)

    async def undelivered(self, user_id: str, limit: int) -> list[Message]:
        async with self._db.session() as s:
            q = (
                select(Message)
                .where(
                    Message.recipient_id == user_id,
                    Message.delivered_at.is_(None),
                    # Nothing of someone the recipient blocked is ever pushed to them.
                    Message.sender_id.not_in(
                        select(Block.blocked_id).where(Block.blocker_id == user_id)
                    ),
                )
                .order_by(Message.created_at, Message.seq)
                .limit(limit)
            )
            return list(await s.scalars(q))

    async def mark_delivered(
        self, user_id: str, ids: Sequence[str], at: datetime
    ) -> list[tuple[str, str, str]]:
        """Mark as delivered; return (id, channel, sender) of each message newly marked.

        ``UPDATE … RETURNING`` (SQLite ≥ 3.35, PostgreSQL): two devices acking the
        same message at once cannot both see it as new, so the receipt is pushed once.
        """
        async with self._db.session() as s:
            rows = await s.execute(
                update(Message)
                .where(
                    Message.id.in_(ids),
                    Message.recipient_id == user_id,
                    Message.delivered_at.is_(None),
                )
                .values(delivered_at=at)
                .returning(Message.id, Message.channel_id, Message.sender_id)
            )
            marked = [(str(i), str(c), str(u)) for i, c, u in rows]
            await s.commit()
            return marked

    async def add_reaction(self, reaction: Reaction) -> bool:
        async with self._db.session() as s:
            s.add(reaction)
            try:
                await s.commit()
            except IntegrityError:
                return False
            return True

    async def remove_reaction(self, message_id: str, user_id: str, emoji: str) -> bool:
        async with self._db.session() as s:
            result = await s.execute(
                delete(Reaction).where(
                    and_(
                        Reaction.message_id == message_id,
                        Reaction.user_id == user_id,
                        Reaction.emoji == emoji,
                    )
                )
            )
            await s.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def reactions(self, message_ids: Sequence[str]) -> list[Reaction]:
        if not message_ids:
            return []
        async with self._db.session() as s:
            q = (
                select(Reaction)
                .where(Reaction.message_id.in_(message_ids))
                .order_by(Reaction.created_at)
            )
            return list(await s.scalars(q))

    async def add_attachment(self, attachment: Attachment) -> None:
        async with self._db.session() as s:
            s.add(attachment)
            await s.commit()

    async def attachment(self, attachment_id: str) -> Attachment | None:
        async with self._db.session() as s:
            return await s.get(Attachment, attachment_id)

    async def attachments(self, ids: Sequence[str]) -> list[Attachment]:
        if not ids:
            return []
        async with self._db.session() as s:
            return list(await s.scalars(select(Attachment).where(Attachment.id.in_(ids))))

    async def add_block(self, block: Block) -> bool:
        """Record a block; False if it existed already (blocking is idempotent)."""
        async with self._db.session() as s:
            s.add(block)
            try:
                await s.commit()
            except IntegrityError:
                return False
            return True

    async def remove_block(self, blocker_id: str, blocked_id: str) -> bool:
        async with self._db.session() as s:
            result = await s.execute(
                delete(Block).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
            )
            await s.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def blocked_ids(self, blocker_id: str) -> set[str]:
        async with self._db.session() as s:
            rows = await s.scalars(select(Block.blocked_id).where(Block.blocker_id == blocker_id))
            return set(rows)

    async def blocked_accounts(self, blocker_id: str, limit: int) -> list[tuple[Block, Account]]:
        """The newest ``limit`` blocks of ``blocker_id`` with the blocked accounts (one query)."""
        async with self._db.session() as s:
            rows = await s.execute(
                select(Block, Account)
                .join(Account, Account.id == Block.blocked_id)
                .where(Block.blocker_id == blocker_id)
                .order_by(Block.created_at.desc())
                .limit(limit)
            )
            return [(block, account) for block, account in rows]

    async def blocks_between(self, a: str, b: str) -> list[Block]:
        """The blocks, in either direction, between two accounts (one indexed query)."""
        async with self._db.session() as s:
            q = select(Block).where(
                or_(
                    and_(Block.blocker_id == a, Block.blocked_id == b),
                    and_(Block.blocker_id == b, Block.blocked_id == a),
                )
            )
            return list(await s.scalars(q))
