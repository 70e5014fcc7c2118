"""After a message is stored: delivered and read receipts, and the offline backlog.

Delivery model. A message stays *undelivered* until one of the recipient's
devices acknowledges it (``POST /api/messages/delivered`` or the socket's
``messages-delivered``); whenever a device of the recipient says hello, the
undelivered backlog is pushed to it. A push is therefore at-least-once and
clients de-duplicate by message id; nothing is lost if the server restarts
between send and delivery, because the backlog lives in the database.

Receipts never cross a block: a delivered receipt is not pushed to a blocked
sender, reading across a block moves only the reader's pointer, and the
backlog (the store's ``undelivered``) leaves out the messages of anyone the
recipient blocked.
"""

from __future__ import annotations

from collections.abc import Sequence

from connect.clock import Clock, utc_now
from connect.contacts.channels import member_channel, other_member
from connect.contacts.schemas import ChannelMessage, MessageReceipt
from connect.contacts.store import ContactStore
from connect.contacts.views import MessageViews
from connect.delivery import Deliverer
from connect.gateway.connection import Client
from connect.identity.service import user_subject

BACKLOG_PUSH = 200


class Receipts:
    def __init__(
        self, *, store: ContactStore, deliverer: Deliverer, clock: Clock, views: MessageViews
    ) -> None:
        self._store = store
        self._deliver = deliverer
        self._clock = clock
        self._views = views

    async def undelivered(self, me: str, limit: int = 500) -> list[ChannelMessage]:
        return await self._views.many(await self._store.undelivered(me, limit))

    async def acknowledge(self, me: str, ids: Sequence[str]) -> int:
        """A device of ``me`` received these messages: mark them delivered and tell each
        sender's devices which of theirs are newly delivered (never across a block)."""
        at = utc_now(self._clock)
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
        channel = await member_channel(self._store, me, channel_id)
        other = other_member(channel, me)
        blocked = bool(await self._store.blocks_between(me, other))
        upto = min(seq, channel.last_seq)
        at = utc_now(self._clock)
        if not await self._store.mark_read(channel, me, upto, at, receipts=not blocked):
            return
        receipt = MessageReceipt(
            channel_id=channel_id, user_id=me, status="read", at=at, up_to_seq=upto
        ).wire()
        self._deliver.deliver_subject(user_subject(me), "message-receipt", receipt)
        if not blocked:
            self._deliver.deliver_subject(user_subject(other), "message-receipt", receipt)

    async def push_backlog(self, client: Client, resumed: bool) -> None:
        """After every hello, resumed or not: a user's device receives what is still
        undelivered. A resume replays only the frames buffered for its place; a push lost
        on the way (a node or Redis failing between store and delivery) is recovered only
        here, so the backlog follows each hello (at least once; clients de-duplicate by id).
        """
        if client.account_id is None:
            return
        for view in await self._views.many(
            await self._store.undelivered(client.account_id, BACKLOG_PUSH)
        ):
            client.push_event("channel-message", view.wire())
