"""What clients see of stored rows: people, messages, attachments, reply quotes.

Every message on the wire (history, search, a push, the backlog, a channel's last
message) is built here, so they all carry the same reactions, quote and attachment.
A page costs one query per kind (reactions, quoted messages, attachments), never
one per message.
"""

from __future__ import annotations

from collections.abc import Sequence

from connect.clock import Clock, utc_now
from connect.contacts.schemas import (
    AttachmentOut,
    ChannelMessage,
    ReactionSummary,
    ReplyQuote,
    UserOut,
)
from connect.contacts.store import ContactStore
from connect.storage.models import Account, Attachment, Message
from connect.storage.times import aware

QUOTE_CHARS = 200


def user_out(account: Account) -> UserOut:
    avatar = f"/api/users/{account.id}/avatar" if account.avatar_path else None
    return UserOut(id=account.id, display_name=account.display_name, avatar_url=avatar)


def attachment_out(a: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        url=f"/api/attachments/{a.id}",
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
    )


def quote(m: Message | None) -> ReplyQuote | None:
    if m is None:
        return None
    return ReplyQuote(
        id=m.id,
        sender_id=m.sender_id,
        text="" if m.deleted_at is not None else m.text[:QUOTE_CHARS],
        has_attachment=m.attachment_id is not None,
        deleted=m.deleted_at is not None,
    )


class MessageViews:
    def __init__(self, store: ContactStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def one(self, message: Message) -> ChannelMessage:
        return (await self.many([message]))[0]

    async def many(self, messages: Sequence[Message]) -> list[ChannelMessage]:
        ids = [m.id for m in messages]
        reactions = await self._store.reactions(ids)
        by_message: dict[str, dict[str, list[str]]] = {}
        for r in reactions:
            by_message.setdefault(r.message_id, {}).setdefault(r.emoji, []).append(r.user_id)
        quoted = {
            q.id: q
            for q in await self._store.messages_by_id(
                sorted({m.reply_to_id for m in messages if m.reply_to_id})
            )
        }
        attachments = {
            a.id: a
            for a in await self._store.attachments(
                [m.attachment_id for m in messages if m.attachment_id]
            )
        }
        return [
            ChannelMessage(
                id=m.id,
                channel_id=m.channel_id,
                seq=m.seq,
                sender_id=m.sender_id,
                text=m.text,
                attachment=attachment_out(attachments[m.attachment_id])
                if m.attachment_id in attachments
                else None,
                client_id=m.client_id,
                created_at=aware(m.created_at) or utc_now(self._clock),
                delivered_at=aware(m.delivered_at),
                reactions=[
                    ReactionSummary(emoji=e, user_ids=u)
                    for e, u in by_message.get(m.id, {}).items()
                ],
                read_at=aware(m.read_at),
                edited_at=aware(m.edited_at),
                deleted_at=aware(m.deleted_at),
                reply_to=quote(quoted.get(m.reply_to_id)) if m.reply_to_id else None,
            )
            for m in messages
        ]
