"""Socket handlers of contacts: channel-typing, and (ext) messages-delivered acks."""

from __future__ import annotations

from typing import Any

from connect.contacts.reasons import refused
from connect.contacts.schemas import ChannelTyping, MessagesDelivered
from connect.contacts.service import ContactsService
from connect.gateway.dispatch import EventContext, Router


def register(router: Router, contacts: ContactsService) -> None:
    async def channel_typing(ctx: EventContext, p: ChannelTyping) -> None:
        account_id = ctx.client.account_id
        if account_id is None:
            raise refused("channels_need_account")
        await contacts.typing(account_id, p.channel_id, p.active)

    async def messages_delivered(ctx: EventContext, p: MessagesDelivered) -> dict[str, Any]:
        """The same acknowledgement as ``POST /api/messages/delivered``, on the socket the
        messages arrived on: no extra HTTP round trip before the sender sees its tick."""
        account_id = ctx.client.account_id
        if account_id is None:
            raise refused("channels_need_account")
        return {"acknowledged": await contacts.acknowledge(account_id, p.ids)}

    router.add("channel-typing", ChannelTyping, channel_typing)
    router.add("messages-delivered", MessagesDelivered, messages_delivered)
