"""Conversations as a whole: opening one, the list of mine, and what a report copies.

A channel is the pair's one conversation (``channel_for_pair`` makes it at most
once). Who may see it is decided here for the other parts too: only its two
members (:func:`member_channel`), and "the other one" is always the member who is
not me (:func:`other_member`), never someone a caller names.
"""

from __future__ import annotations

import uuid

from connect.clock import Clock, utc_now
from connect.contacts.blocks import blocked_error
from connect.contacts.reasons import refused
from connect.contacts.schemas import ChannelOut
from connect.contacts.store import ContactStore
from connect.contacts.views import MessageViews, user_out
from connect.delivery import Deliverer
from connect.identity.service import user_subject
from connect.identity.store import AccountStore
from connect.storage.models import Channel
from connect.storage.times import aware

REPORT_CONTEXT_BEFORE = 5
REPORT_CONTEXT_AFTER = 2
REPORT_CONTEXT_RECENT = 10
EXCERPT_CHARS = 500


async def member_channel(store: ContactStore, me: str, channel_id: str) -> Channel:
    """The channel if ``me`` is one of its two members; 404 ``no such channel`` otherwise."""
    channel = await store.channel(channel_id)
    if channel is None or me not in (channel.user_a, channel.user_b):
        raise refused("channel_not_found")
    return channel


def other_member(channel: Channel, me: str) -> str:
    return channel.user_b if channel.user_a == me else channel.user_a


class Channels:
    def __init__(
        self,
        *,
        store: ContactStore,
        accounts: AccountStore,
        deliverer: Deliverer,
        clock: Clock,
        views: MessageViews,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._deliver = deliverer
        self._clock = clock
        self._views = views

    async def open_channel(self, me: str, other_id: str) -> ChannelOut:
        if other_id == me:
            raise refused("channel_with_self")
        other = await self._accounts.by_id(other_id)
        if other is None or other.disabled:
            raise refused("user_not_found")
        blocks = await self._store.blocks_between(me, other_id)
        if any(b.blocker_id == other_id for b in blocks):
            raise blocked_error(by_me=False)
        a, b = sorted((me, other_id))
        fresh = Channel(
            id=uuid.uuid4().hex,
            user_a=a,
            user_b=b,
            created_at=utc_now(self._clock),
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
            await self._channel_out(c, me, other_member(c, me) in mine)
            for c in await self._store.channels_of(me)
        ]

    async def _channel_out(self, channel: Channel, me: str, blocked: bool) -> ChannelOut:
        peer = await self._accounts.by_id(other_member(channel, me))
        assert peer is not None
        last = await self._store.last_message(channel.id)
        return ChannelOut(
            id=channel.id,
            peer=user_out(peer),
            created_at=aware(channel.created_at) or utc_now(self._clock),
            last_message=await self._views.one(last) if last else None,
            unread_count=await self._store.unread(channel, me),
            blocked=blocked,
        )

    async def report_context(
        self, me: str, channel_id: str, message_id: str | None
    ) -> tuple[Channel, str, list[dict[str, object]]]:
        """What a report from a conversation copies: the channel, the reported account
        (always the other member, never someone the reporter names) and a few messages
        of context around the reported one (or the latest ones)."""
        channel = await self._store.channel(channel_id)
        if channel is None:
            raise refused("channel_not_found")
        if me not in (channel.user_a, channel.user_b):
            raise refused("report_not_member")
        other = other_member(channel, me)
        if message_id is not None:
            message = await self._store.message(message_id)
            if message is None or message.channel_id != channel_id:
                raise refused("message_not_found")
            if message.sender_id != other:
                raise refused("report_own_message")
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
                "ts": (aware(m.created_at) or utc_now(self._clock)).isoformat(),
                "messageId": m.id,
                "seq": m.seq,
                **({"reported": True} if m.id == message_id else {}),
            }
            for m in rows
        ]
        return channel, other, lines
