"""Reactions to a message: one emoji per reaction, at most a few per person and message.

Either member of the conversation may react; the reaction is stored, then pushed
as ``message-reaction`` to both members' devices. Adding one across a block is
refused (403 ``blocked``); removing one's own stays possible, but only one's own
devices hear of it.

An emoji is stored, counted, pushed and removed in one spelling, the
fully-qualified one (``emoji.canonical``): 👍 and 👍+U+FE0F are one reaction, and
either spelling removes it. Rows stored before that keep the spelling they were
sent in; a remove that finds no canonical row tries the spelling it was given,
the one such a row is listed with.
"""

from __future__ import annotations

import uuid

from connect.clock import Clock, utc_now
from connect.contacts.blocks import blocked_error
from connect.contacts.emoji import canonical, is_emoji
from connect.contacts.reasons import refused
from connect.contacts.store import ContactStore
from connect.delivery import Deliverer
from connect.errors import bad_request, conflict
from connect.identity.service import user_subject
from connect.storage.models import Reaction

REACTIONS_PER_USER = 10


class Reactions:
    def __init__(self, *, store: ContactStore, deliverer: Deliverer, clock: Clock) -> None:
        self._store = store
        self._deliver = deliverer
        self._clock = clock

    async def react(self, me: str, message_id: str, emoji: str, *, add: bool) -> None:
        if not is_emoji(emoji):
            raise bad_request("a reaction is one emoji", "invalid_emoji")
        spelled, emoji = emoji, canonical(emoji)
        message = await self._store.message(message_id)
        if message is None or me not in (message.sender_id, message.recipient_id):
            raise refused("message_not_found")
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
                    created_at=utc_now(self._clock),
                )
            )
        else:
            changed = await self._store.remove_reaction(message_id, me, emoji)
            if not changed and spelled != emoji:
                # A row stored before reactions were canonical, listed in this spelling.
                changed = await self._store.remove_reaction(message_id, me, spelled)
                if changed:
                    emoji = spelled
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
