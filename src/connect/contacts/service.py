"""1:1 messaging between accounts: the one service the API, the gateway, calls and
moderation hold (``ContactsService``), made of one part per responsibility.

- channels.py: opening a conversation, the list of mine, a report's context;
- messages.py: send, history, edit, delete for everyone, search, typing;
- receipts.py: delivered and read receipts, the offline backlog;
- reactions.py: reactions to a message;
- attachments.py: uploading and downloading files;
- blocks.py: blocks, and the refusal every other part applies;
- views.py: the wire shape of people, messages and attachments, shared by all.

Every part keeps the two rules of contacts: stored before pushed (SQL first, then
the push, so a restart loses nothing), and nothing crosses a block (checked in
the service, before anything is stored or pushed). This module only builds the
parts and hands each call to its owner, so the callers keep one object.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from connect.clock import Clock
from connect.contacts.attachments import Attachments
from connect.contacts.blocks import Blocks
from connect.contacts.channels import Channels
from connect.contacts.messages import Messages
from connect.contacts.reactions import Reactions
from connect.contacts.receipts import Receipts
from connect.contacts.schemas import (
    AttachmentOut,
    BlockedUser,
    ChannelMessage,
    ChannelOut,
    MessageIn,
    MessagePage,
    SearchPage,
)
from connect.contacts.store import ContactStore
from connect.contacts.views import MessageViews
from connect.contacts.views import user_out as user_out  # imported from here by calls, identity
from connect.delivery import Deliverer
from connect.events.service import NO_EVENTS, Publisher
from connect.gateway.connection import Client
from connect.identity.store import AccountStore
from connect.storage.models import Attachment, Channel


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
        views = MessageViews(store, clock)
        self._blocks = Blocks(store=store, accounts=accounts, clock=clock)
        self._channels = Channels(
            store=store, accounts=accounts, deliverer=deliverer, clock=clock, views=views
        )
        self._messages = Messages(
            store=store,
            accounts=accounts,
            deliverer=deliverer,
            clock=clock,
            views=views,
            blocks=self._blocks,
            files_dir=files_dir,
            events=events,
            edit_window_s=edit_window_s,
        )
        self._receipts = Receipts(store=store, deliverer=deliverer, clock=clock, views=views)
        self._reactions = Reactions(store=store, deliverer=deliverer, clock=clock)
        self._attachments = Attachments(
            store=store,
            clock=clock,
            blocks=self._blocks,
            files_dir=files_dir,
            max_bytes=attachment_max_bytes,
        )

    # Channels

    async def open_channel(self, me: str, other_id: str) -> ChannelOut:
        return await self._channels.open_channel(me, other_id)

    async def channels(self, me: str) -> list[ChannelOut]:
        return await self._channels.channels(me)

    async def report_context(
        self, me: str, channel_id: str, message_id: str | None
    ) -> tuple[Channel, str, list[dict[str, object]]]:
        return await self._channels.report_context(me, channel_id, message_id)

    # Messages

    async def history(self, me: str, channel_id: str, after: int, limit: int) -> MessagePage:
        return await self._messages.history(me, channel_id, after, limit)

    async def send(self, me: str, channel_id: str, body: MessageIn) -> tuple[ChannelMessage, bool]:
        return await self._messages.send(me, channel_id, body)

    async def edit(self, me: str, message_id: str, text: str) -> ChannelMessage:
        return await self._messages.edit(me, message_id, text)

    async def delete(self, me: str, message_id: str) -> None:
        await self._messages.delete(me, message_id)

    async def search(
        self, me: str, channel_id: str, q: str, before: int | None, limit: int
    ) -> SearchPage:
        return await self._messages.search(me, channel_id, q, before, limit)

    async def typing(self, me: str, channel_id: str, active: bool) -> None:
        await self._messages.typing(me, channel_id, active)

    # Receipts and the backlog

    async def undelivered(self, me: str, limit: int = 500) -> list[ChannelMessage]:
        return await self._receipts.undelivered(me, limit)

    async def acknowledge(self, me: str, ids: Sequence[str]) -> int:
        return await self._receipts.acknowledge(me, ids)

    async def mark_read(self, me: str, channel_id: str, seq: int) -> None:
        await self._receipts.mark_read(me, channel_id, seq)

    async def push_backlog(self, client: Client, resumed: bool) -> None:
        await self._receipts.push_backlog(client, resumed)

    # Reactions

    async def react(self, me: str, message_id: str, emoji: str, *, add: bool) -> None:
        await self._reactions.react(me, message_id, emoji, add=add)

    # Blocks

    async def refuse_if_blocked(self, me: str, other: str) -> None:
        await self._blocks.refuse_if_blocked(me, other)

    async def block(self, me: str, other_id: str) -> None:
        await self._blocks.block(me, other_id)

    async def unblock(self, me: str, other_id: str) -> None:
        await self._blocks.unblock(me, other_id)

    async def blocked(self, me: str) -> list[BlockedUser]:
        return await self._blocks.blocked(me)

    # Attachments

    async def upload(self, me: str, channel_id: str, filename: str, data: bytes) -> AttachmentOut:
        return await self._attachments.upload(me, channel_id, filename, data)

    async def attachment_file(self, me: str, attachment_id: str) -> tuple[Path, Attachment]:
        return await self._attachments.attachment_file(me, attachment_id)
