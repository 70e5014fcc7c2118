"""Socket handlers of contacts: channel-typing."""

from __future__ import annotations

from connect.contacts.schemas import ChannelTyping
from connect.contacts.service import ContactsService
from connect.errors import unauthorized
from connect.gateway.dispatch import EventContext, Router


def register(router: Router, contacts: ContactsService) -> None:
    async def channel_typing(ctx: EventContext, p: ChannelTyping) -> None:
        account_id = ctx.client.account_id
        if account_id is None:
            raise unauthorized("log in to use channels")
        await contacts.typing(account_id, p.channel_id, p.active)

    router.add("channel-typing", ChannelTyping, channel_typing)
