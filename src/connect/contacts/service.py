"""1:1 messaging between accounts: channels, messages, offline delivery, typing, reactions,
attachments.

Why one ~580-line module: it is the single place that holds the two rules every
message operation must keep (send, edit, delete, react, read, typing, backlog):
stored before pushed, and nothing crosses a block. Split by operation, each
module would have to repeat both.

Delivery model. Every message is written to SQL first, then pushed as
``channel-message`` to every live connection of the recipient (and the
sender's other devices). It stays *undelivered* until one of the
recipient's devices acknowledges it (``POST /api/messages/delivered``);
whenever a device of the recipient says hello, the undelivered backlog is
pushed to it. A push is therefore at-least-once and clients de-duplicate by
message id; nothing is lost if the server restarts between send and
delivery, because the backlog lives in the database.

Idempotent sending. A message carries a client-generated ``clientId``; the
pair (channel, sender, clientId) is unique, so a resend after a network error
returns the original message instead of a duplicate. Reusing a clientId for
different content is an error rather than a silent overwrite.

Blocking. A block silences a pair both ways, and it is enforced here, in the
service, before anything is stored or pushed, so it holds on every node (the
blocks live in SQL) and whatever the client does: sending a message, reacting,
calling or opening a new channel across a block is refused with 403
``blocked`` (the honest contract: the sender is told, nothing is stored to be
delivered later); typing across a block is dropped silently; the undelivered
backlog never carries a blocked sender's messages. History from before the
block stays readable (and reportable) for both members.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from connect.clock import Clock
from connect.contacts.emoji import is_emoji
from connect.contacts.schemas import (
    AttachmentOut,
    BlockedUser,
    ChannelMessage,
    ChannelOut,
    MessageDeleted,
    MessageIn,
    MessagePage,
    MessageReceipt,
    ReactionSummary,
    ReplyQuote,
    SearchPage,
    UserOut,
)
from connect.contacts.store import ContactStore, DuplicateClientId
from connect.delivery import Deliverer
from connect.errors import ConnectError, bad_request, conflict, forbidden, not_found
from connect.events.service import NO_EVENTS, Publisher
from connect.gateway.connection import Client
from connect.identity.service import user_subject
from connect.identity.store import AccountStore
from connect.storage.models import Account, Attachment, Block, Channel, Message, Reaction
from connect.storage.times import aware
from connect.uploads import ATTACHMENT_TYPES, check_upload, store

TYPING_TTL_MS = 6000
BACKLOG_PUSH = 200
REPORT_CONTEXT_BEFORE = 5
REPORT_CONTEXT_AFTER = 2
REPORT_CONTEXT_RECENT = 10
EXCERPT_CHARS = 500
BLOCK_LIST_MAX = 1000
QUOTE_CHARS = 200
REACTIONS_PER_USER = 10

log = structlog.get_logger(__name__)


def blocked_error(by_me: bool) -> ConnectError:
    if by_me:
        return ConnectError("blocked", "you blocked this person; unblock them first", status=403)
    return ConnectError(
        "blocked", "this person does not accept messages or calls from you", status=403
    )


def user_out(account: Account) -> UserOut:
    avatar = f"/api/users/{account.id}/avatar" if account.avatar_path else None
    return UserOut(id=account.id, display_name=account.display_name, avatar_url=avatar)


class ContactsService:
    def __init__(
        self,
        *,
        store: ContactStore,
        accounts: AccountStore,
        deliverer: Deliverer,
        clock: Clock,
        files_dir: Path,
        attachment_max_bytes: int,
        events: Publisher = NO_EVENTS,
        edit_window_s: float = 900.0,
    ) -> None:
        self._edit_window = timedelta(seconds=edit_window_s)
        self._events = events
        self._store = store
        self._accounts = accounts
        self._deliver = deliverer
        self._clock = clock
        self._files = files_dir
        self._attachment_max = attachment_max_bytes

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)

    async def _member_channel(self, me: str, channel_id: str) -> Channel:
        channel = await self._store.channel(channel_id)
        if channel is None or me not in (channel.user_a, channel.user_b):
            raise not_found("no such channel")
        return channel

    @staticmethod
    def _other(channel: Channel, me: str) -> str:
        return channel.user_b if channel.user_a == me else channel.user_a

    async def open_channel(self, me: str, other_id: str) -> ChannelOut:
        if other_id == me:
            raise bad_request("you cannot open a channel with yourself")
        other = await self._accounts.by_id(other_id)
        if other is None or other.disabled:
            raise not_found("no such user")
        blocks = await self._store.blocks_between(me, other_id)
        if any(b.blocker_id == other_id for b in blocks):
            raise blocked_error(by_me=False)
        a, b = sorted((me, other_id))
        fresh = Channel(
            id=uuid.uuid4().hex,
            user_a=a,
            user_b=b,
            created_at=self._now(),
            last_seq=0,
            read_seq_a=0,
            read_seq_b=0,
        )
        channel = await self._store.channel_for_pair(fresh)
        mine = await self._channel_out(channel, me, bool(blocks))
        if channel is fresh:
            # A new conversation shows on the other side at once, not with its first
            # message; never across a block (here: one the opener made).
            self._deliver.deliver_subject(user_subject(me), "channel-created", mine.wire())
            if not blocks:
                theirs = await self._channel_out(channel, other_id, False)
                self._deliver.deliver_subject(
                    user_subject(other_id), "channel-created", theirs.wire()
                )
        return mine

    async def channels(self, me: str) -> list[ChannelOut]:
        mine = await self._store.blocked_ids(me)
        return [
            await self._channel_out(c, me, self._other(c, me) in mine)
            for c in await self._store.channels_of(me)
        ]

    async def _channel_out(self, channel: Channel, me: str, blocked: bool) -> ChannelOut:
        peer = await self._accounts.by_id(self._other(channel, me))
        assert peer is not None
        last = await self._store.last_message(channel.id)
        return ChannelOut(
            id=channel.id,
            peer=user_out(peer),
            created_at=aware(channel.created_at) or self._now(),
            last_message=(await self._views([last]))[0] if last else None,
            unread_count=await self._store.unread(channel, me),
            blocked=blocked,
        )

    async def history(self, me: str, channel_id: str, after: int, limit: int) -> MessagePage:
        await self._member_channel(me, channel_id)
        rows = await self._store.messages(channel_id, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return MessagePage(
            messages=await self._views(rows), next_cursor=rows[-1].seq if more else None
        )

    async def send(self, me: str, channel_id: str, body: MessageIn) -> tuple[ChannelMessage, bool]:
        """Store and push a message; return it and whether it is new (False: a resend)."""
        channel = await self._member_channel(me, channel_id)
        if not body.text.strip() and body.attachment_id is None:
            raise bad_request("a message needs text or an attachment")
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
        recipient = self._other(channel, me)
        await self.refuse_if_blocked(me, recipient)
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
            created_at=self._now(),
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
            return (await self._views([dup.existing]))[0], False
        self._events.publish(
            "message.sent", strand="contacts", attachment=body.attachment_id is not None
        )
        view = (await self._views([stored]))[0]
        payload = view.wire()
        self._deliver.deliver_subject(user_subject(recipient), "channel-message", payload)
        self._deliver.deliver_subject(user_subject(me), "channel-message", payload)
        return view, True

    async def undelivered(self, me: str, limit: int = 500) -> list[ChannelMessage]:
        return await self._views(await self._store.undelivered(me, limit))

    async def acknowledge(self, me: str, ids: Sequence[str]) -> int:
        """A device of ``me`` received these messages: mark them delivered and tell each
        sender's devices which of theirs are newly delivered (never across a block)."""
        at = self._now()
        marked = await self._store.mark_delivered(me, ids, at)
        groups: dict[tuple[str, str], list[str]] = {}
        for message_id, channel_id, sender in marked:
            groups.setdefault((channel_id, sender), []).append(message_id)
        for (channel_id, sender), message_ids in groups.items():
            if await self._store.blocks_between(me, sender):
                continue
            receipt = MessageReceipt(
                channel_id=channel_id,
                user_id=me,
                status="delivered",
                at=at,
                message_ids=message_ids,
            )
            self._deliver.deliver_subject(user_subject(sender), "message-receipt", receipt.wire())
        return len(marked)

    async def mark_read(self, me: str, channel_id: str, seq: int) -> None:
        """Read up to ``seq``: the pointer moves (unread counts), the other member's messages
        get ``readAt`` and their devices a ``read`` receipt, and my other devices learn it
        too. Across a block only the pointer moves: nothing is recorded or pushed to them."""
        channel = await self._member_channel(me, channel_id)
        other = self._other(channel, me)
        blocked = bool(await self._store.blocks_between(me, other))
        upto = min(seq, channel.last_seq)
        at = self._now()
        if not await self._store.mark_read(channel, me, upto, at, receipts=not blocked):
            return
        receipt = MessageReceipt(
            channel_id=channel_id, user_id=me, status="read", at=at, up_to_seq=upto
        ).wire()
        self._deliver.deliver_subject(user_subject(me), "message-receipt", receipt)
        if not blocked:
            self._deliver.deliver_subject(user_subject(other), "message-receipt", receipt)

    # Edit, delete for everyone, search

    async def _own_message(self, me: str, message_id: str) -> Message:
        message = await self._store.message(message_id)
        if message is None or me not in (message.sender_id, message.recipient_id):
            raise not_found("no such message")
        if message.sender_id != me:
            raise forbidden("only the sender can change a message")
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
            raise bad_request("a message needs text or an attachment")
        if self._now() - (aware(message.created_at) or self._now()) > self._edit_window:
            raise conflict("this message can no longer be edited", "edit_window_passed")
        await self.refuse_if_blocked(me, message.recipient_id)
        edited = await self._store.edit_message(message_id, text, self._now())
        if edited is None:
            raise conflict("the message was deleted", "message_deleted")
        view = (await self._views([edited]))[0]
        self._push_pair(me, message.recipient_id, False, "message-edited", view.wire())
        return view

    async def delete(self, me: str, message_id: str) -> None:
        message = await self._own_message(me, message_id)
        at = self._now()
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
        await self._member_channel(me, channel_id)
        needle = q.strip()
        if not needle:
            raise bad_request("search for some text")
        rows = await self._store.search(channel_id, needle, before, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return SearchPage(
            messages=await self._views(rows), next_before=rows[-1].seq if more else None
        )

    async def react(self, me: str, message_id: str, emoji: str, *, add: bool) -> None:
        if not is_emoji(emoji):
            raise bad_request("a reaction is one emoji", "invalid_emoji")
        message = await self._store.message(message_id)
        if message is None or me not in (message.sender_id, message.recipient_id):
            raise not_found("no such message")
        if add and message.deleted_at is not None:
            raise conflict("the message was deleted", "message_deleted")
        other = message.recipient_id if message.sender_id == me else message.sender_id
        blocks = await self._store.blocks_between(me, other)
        blocked = bool(blocks)
        if add and blocked:
            raise blocked_error(by_me=any(b.blocker_id == me for b in blocks))
        if add and await self._store.reaction_count(message_id, me) >= REACTIONS_PER_USER:
            raise conflict(
                f"at most {REACTIONS_PER_USER} reactions per message", "too_many_reactions"
            )
        if add:
            changed = await self._store.add_reaction(
                Reaction(
                    id=uuid.uuid4().hex,
                    message_id=message_id,
                    user_id=me,
                    emoji=emoji,
                    created_at=self._now(),
                )
            )
        else:
            changed = await self._store.remove_reaction(message_id, me, emoji)
        if changed:
            event = {
                "messageId": message_id,
                "channelId": message.channel_id,
                "userId": me,
                "emoji": emoji,
                "action": "added" if add else "removed",
            }
            # Removing one's reaction stays possible across a block, but only one's
            # own devices hear of it.
            for user in {me} if blocked else {message.sender_id, message.recipient_id}:
                self._deliver.deliver_subject(user_subject(user), "message-reaction", event)

    async def typing(self, me: str, channel_id: str, active: bool) -> None:
        channel = await self._member_channel(me, channel_id)
        other = self._other(channel, me)
        if await self._store.blocks_between(me, other):
            return  # dropped silently: typing has no reply to refuse with
        self._deliver.deliver_subject(
            user_subject(other),
            "channel-typing",
            {"channelId": channel_id, "userId": me, "active": active, "ttlMs": TYPING_TTL_MS},
        )

    # Blocks

    async def refuse_if_blocked(self, me: str, other: str) -> None:
        """403 ``blocked`` if either of the two blocked the other (checked in SQL, every node)."""
        blocks = await self._store.blocks_between(me, other)
        if blocks:
            raise blocked_error(by_me=any(b.blocker_id == me for b in blocks))

    async def block(self, me: str, other_id: str) -> None:
        if other_id == me:
            raise bad_request("you cannot block yourself")
        other = await self._accounts.by_id(other_id)
        if other is None:
            raise not_found("no such user")
        await self._store.add_block(
            Block(blocker_id=me, blocked_id=other_id, created_at=self._now())
        )

    async def unblock(self, me: str, other_id: str) -> None:
        await self._store.remove_block(me, other_id)

    async def blocked(self, me: str) -> list[BlockedUser]:
        return [
            BlockedUser(user=user_out(account), created_at=aware(b.created_at) or self._now())
            for b, account in await self._store.blocked_accounts(me, BLOCK_LIST_MAX)
        ]

    # Reports from a conversation

    async def report_context(
        self, me: str, channel_id: str, message_id: str | None
    ) -> tuple[Channel, str, list[dict[str, object]]]:
        """What a report from a conversation copies: the channel, the reported account
        (always the other member, never someone the reporter names) and a few messages
        of context around the reported one (or the latest ones)."""
        channel = await self._store.channel(channel_id)
        if channel is None:
            raise not_found("no such channel")
        if me not in (channel.user_a, channel.user_b):
            raise forbidden("only a member of the conversation can report it")
        other = self._other(channel, me)
        if message_id is not None:
            message = await self._store.message(message_id)
            if message is None or message.channel_id != channel_id:
                raise not_found("no such message in this conversation")
            if message.sender_id != other:
                raise bad_request("report the other person's messages, not your own")
            rows = await self._store.messages(
                channel_id,
                max(0, message.seq - REPORT_CONTEXT_BEFORE - 1),
                REPORT_CONTEXT_BEFORE + 1 + REPORT_CONTEXT_AFTER,
            )
        else:
            rows = await self._store.recent_messages(channel_id, REPORT_CONTEXT_RECENT)
        lines: list[dict[str, object]] = [
            {
                "from": m.sender_id,
                # The reported message whole (≤ 4000 characters), the context shortened.
                "text": m.text if m.id == message_id else m.text[:EXCERPT_CHARS],
                "ts": (aware(m.created_at) or self._now()).isoformat(),
                "messageId": m.id,
                "seq": m.seq,
                **({"reported": True} if m.id == message_id else {}),
            }
            for m in rows
        ]
        return channel, other, lines

    async def upload(self, me: str, channel_id: str, filename: str, data: bytes) -> AttachmentOut:
        channel = await self._member_channel(me, channel_id)
        await self.refuse_if_blocked(me, self._other(channel, me))  # it could never be sent
        kind = check_upload(data, ATTACHMENT_TYPES, self._attachment_max)
        name = store(self._files, data, kind)
        attachment = Attachment(
            id=uuid.uuid4().hex,
            channel_id=channel_id,
            uploader_id=me,
            filename=(filename or "file")[-255:],
            content_type=kind,
            size=len(data),
            path=name,
            created_at=self._now(),
        )
        await self._store.add_attachment(attachment)
        return _attachment_out(attachment)

    async def attachment_file(self, me: str, attachment_id: str) -> tuple[Path, Attachment]:
        attachment = await self._store.attachment(attachment_id)
        if attachment is None:
            raise not_found("no such attachment")
        channel = await self._store.channel(attachment.channel_id)
        if channel is None or me not in (channel.user_a, channel.user_b):
            raise forbidden("only members of the channel may download its attachments")
        path = self._files / attachment.path
        if not path.is_file():
            raise not_found("the file is gone")
        return path, attachment

    async def push_backlog(self, client: Client, resumed: bool) -> None:
        """After every hello, resumed or not: a user's device receives what is still
        undelivered. A resume replays only the frames buffered for its place; a push lost
        on the way (a node or Redis failing between store and delivery) is recovered only
        here, so the backlog follows each hello (at least once; clients de-duplicate by id).
        """
        if client.account_id is None:
            return
        for view in await self._views(
            await self._store.undelivered(client.account_id, BACKLOG_PUSH)
        ):
            client.push_event("channel-message", view.wire())

    async def _views(self, messages: Sequence[Message]) -> list[ChannelMessage]:
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
                attachment=_attachment_out(attachments[m.attachment_id])
                if m.attachment_id in attachments
                else None,
                client_id=m.client_id,
                created_at=aware(m.created_at) or self._now(),
                delivered_at=aware(m.delivered_at),
                reactions=[
                    ReactionSummary(emoji=e, user_ids=u)
                    for e, u in by_message.get(m.id, {}).items()
                ],
                read_at=aware(m.read_at),
                edited_at=aware(m.edited_at),
                deleted_at=aware(m.deleted_at),
                reply_to=_quote(quoted.get(m.reply_to_id)) if m.reply_to_id else None,
            )
            for m in messages
        ]


def _attachment_out(a: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        url=f"/api/attachments/{a.id}",
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
    )


def _quote(m: Message | None) -> ReplyQuote | None:
    if m is None:
        return None
    return ReplyQuote(
        id=m.id,
        sender_id=m.sender_id,
        text="" if m.deleted_at is not None else m.text[:QUOTE_CHARS],
        has_attachment=m.attachment_id is not None,
        deleted=m.deleted_at is not None,
    )
