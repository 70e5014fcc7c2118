"""Messages of a conversation: send, history, edit, delete for everyone, search, typing.

Stored before pushed: every message is written to SQL first, then pushed as
``channel-message`` to every live connection of the recipient (and the sender's
other devices); an edit or a delete is stored, then pushed. What happens to a
message after that (delivered and read receipts, the offline backlog) is
receipts.py's.

Idempotent sending. A message carries a client-generated ``clientId``; the
pair (channel, sender, clientId) is unique, so a resend after a network error
returns the original message instead of a duplicate. Reusing a clientId for
different content is an error rather than a silent overwrite.

Nothing crosses a block (blocks.py): sending or editing across one is refused
before anything is stored, a delete across one is pushed to my devices only,
and typing across one is dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog

from connect.clock import Clock, utc_now
from connect.contacts.blocks import Blocks
from connect.contacts.channels import member_channel, other_member
from connect.contacts.reasons import refused
from connect.contacts.schemas import (
    ChannelMessage,
    MessageDeleted,
    MessageIn,
    MessagePage,
    SearchPage,
)
from connect.contacts.store import ContactStore, DuplicateClientId
from connect.contacts.views import MessageViews
from connect.delivery import Deliverer
from connect.errors import bad_request, conflict
from connect.events.service import NO_EVENTS, Publisher
from connect.identity.service import user_subject
from connect.identity.store import AccountStore
from connect.storage.models import Message
from connect.storage.times import aware

TYPING_TTL_MS = 6000

log = structlog.get_logger(__name__)


class Messages:
    def __init__(
        self,
        *,
        store: ContactStore,
        accounts: AccountStore,
        deliverer: Deliverer,
        clock: Clock,
        views: MessageViews,
        blocks: Blocks,
        files_dir: Path,
        events: Publisher = NO_EVENTS,
        edit_window_s: float = 900.0,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._deliver = deliverer
        self._clock = clock
        self._views = views
        self._blocks = blocks
        self._files = files_dir
        self._events = events
        self._edit_window = timedelta(seconds=edit_window_s)

    async def history(self, me: str, channel_id: str, after: int, limit: int) -> MessagePage:
        await member_channel(self._store, me, channel_id)
        rows = await self._store.messages(channel_id, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return MessagePage(
            messages=await self._views.many(rows), next_cursor=rows[-1].seq if more else None
        )

    async def send(self, me: str, channel_id: str, body: MessageIn) -> tuple[ChannelMessage, bool]:
        """Store and push a message; return it and whether it is new (False: a resend)."""
        channel = await member_channel(self._store, me, channel_id)
        if not body.text.strip() and body.attachment_id is None:
            raise refused("message_empty")
        if body.attachment_id is not None:
            attachment = await self._store.attachment(body.attachment_id)
            if (
                attachment is None
                or attachment.channel_id != channel_id
                or attachment.uploader_id != me
            ):
                raise bad_request("unknown attachment for this channel", "invalid_attachment")
        if body.reply_to is not None:
            quoted = await self._store.message(body.reply_to)
            if quoted is None or quoted.channel_id != channel_id or quoted.deleted_at is not None:
                raise bad_request("reply to a message of this conversation", "invalid_reply")
        recipient = other_member(channel, me)
        await self._blocks.refuse_if_blocked(me, recipient)
        peer = await self._accounts.by_id(recipient)
        if peer is None or peer.deleted_at is not None:
            raise conflict(
                "this account was deleted; it cannot receive messages", "account_deleted"
            )
        message = Message(
            id=uuid.uuid4().hex,
            channel_id=channel_id,
            seq=0,
            sender_id=me,
            recipient_id=recipient,
            client_id=body.client_id,
            text=body.text,
            attachment_id=body.attachment_id,
            created_at=utc_now(self._clock),
            delivered_at=None,
            reply_to_id=body.reply_to,
        )
        try:
            stored = await self._store.add_message(message)
        except DuplicateClientId as dup:
            if (
                dup.existing.text != body.text
                or dup.existing.attachment_id != body.attachment_id
                or dup.existing.reply_to_id != body.reply_to
            ) and dup.existing.deleted_at is None:
                raise conflict(
                    "this clientId was used for a different message", "client_id_conflict"
                ) from dup
            return await self._views.one(dup.existing), False
        self._events.publish(
            "message.sent", strand="contacts", attachment=body.attachment_id is not None
        )
        view = await self._views.one(stored)
        payload = view.wire()
        self._deliver.deliver_subject(user_subject(recipient), "channel-message", payload)
        self._deliver.deliver_subject(user_subject(me), "channel-message", payload)
        return view, True

    # Edit, delete for everyone, search

    async def _own_message(self, me: str, message_id: str) -> Message:
        message = await self._store.message(message_id)
        if message is None or me not in (message.sender_id, message.recipient_id):
            raise refused("message_not_found")
        if message.sender_id != me:
            raise refused("message_not_yours")
        return message

    def _push_pair(
        self, me: str, other: str, blocked: bool, event: str, data: Mapping[str, Any]
    ) -> None:
        """Push to every device of both members; across a block to mine only."""
        for user in (me,) if blocked else (me, other):
            self._deliver.deliver_subject(user_subject(user), event, data)

    async def edit(self, me: str, message_id: str, text: str) -> ChannelMessage:
        message = await self._own_message(me, message_id)
        if message.deleted_at is not None:
            raise conflict("the message was deleted", "message_deleted")
        if not text.strip() and message.attachment_id is None:
            raise refused("message_empty")
        if (
            utc_now(self._clock) - (aware(message.created_at) or utc_now(self._clock))
            > self._edit_window
        ):
            raise conflict("this message can no longer be edited", "edit_window_passed")
        await self._blocks.refuse_if_blocked(me, message.recipient_id)
        edited = await self._store.edit_message(message_id, text, utc_now(self._clock))
        if edited is None:
            raise conflict("the message was deleted", "message_deleted")
        view = await self._views.one(edited)
        self._push_pair(me, message.recipient_id, False, "message-edited", view.wire())
        return view

    async def delete(self, me: str, message_id: str) -> None:
        message = await self._own_message(me, message_id)
        at = utc_now(self._clock)
        deleted, path = await self._store.delete_message(message_id, at)
        if path is not None:
            try:
                (self._files / path).unlink(missing_ok=True)
            except OSError as exc:
                log.warning("attachment_unlink_failed", error=type(exc).__name__)
        if not deleted:
            return
        blocked = bool(await self._store.blocks_between(me, message.recipient_id))
        event = MessageDeleted(
            message_id=message_id, channel_id=message.channel_id, seq=message.seq, deleted_at=at
        )
        self._push_pair(me, message.recipient_id, blocked, "message-deleted", event.wire())

    async def search(
        self, me: str, channel_id: str, q: str, before: int | None, limit: int
    ) -> SearchPage:
        await member_channel(self._store, me, channel_id)
        needle = q.strip()
        if not needle:
            raise refused("search_empty")
        rows = await self._store.search(channel_id, needle, before, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return SearchPage(
            messages=await self._views.many(rows), next_before=rows[-1].seq if more else None
        )

    async def typing(self, me: str, channel_id: str, active: bool) -> None:
        channel = await member_channel(self._store, me, channel_id)
        other = other_member(channel, me)
        if await self._store.blocks_between(me, other):
            return  # dropped silently: typing has no reply to refuse with
        self._deliver.deliver_subject(
            user_subject(other),
            "channel-typing",
            {"channelId": channel_id, "userId": me, "active": active, "ttlMs": TYPING_TTL_MS},
        )
