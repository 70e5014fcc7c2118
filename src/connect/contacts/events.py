"""Socket handlers of contacts: channel-typing."""

from __future__ import annotations

from connect.contacts.schemas import ChannelTyping
from connect.contacts.service import ContactsService
from connect.errors import unauthorized
from connect.gateway.dispatch import EventContext, Router


def register(router: Router, contacts: ContactsService) -> None:
    async def channel_typing(ctx: EventContext, p: ChannelTyping) -> None:
        if ctx.client.principal.kind != "access":
            raise unauthorized("log in to use channels")
        await contacts.typing(ctx.client.subject, p.channel_id, p.active)

    router.add("channel-typing", ChannelTyping, channel_typing)
