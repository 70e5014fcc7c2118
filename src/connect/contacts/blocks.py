"""Blocks between accounts: making, lifting and listing them, and the check that refuses.

A block silences a pair both ways, and it is enforced in the services, before
anything is stored or pushed, so it holds on every node (the blocks live in SQL)
and whatever the client does: sending a message, reacting, calling or opening a
new channel across a block is refused with 403 ``blocked`` (the honest contract:
the sender is told, nothing is stored to be delivered later); typing across a
block is dropped silently; the undelivered backlog never carries a blocked
sender's messages. History from before the block stays readable (and
reportable) for both members.

Each part of contacts (and calls) asks here or reads ``blocks_between`` itself
before it stores or pushes; this module owns the refusal and its wording.
"""

from __future__ import annotations

from connect.clock import Clock, utc_now
from connect.contacts.reasons import refused
from connect.contacts.schemas import BlockedUser
from connect.contacts.store import ContactStore
from connect.contacts.views import user_out
from connect.errors import ConnectError
from connect.identity.store import AccountStore
from connect.storage.models import Block
from connect.storage.times import aware

BLOCK_LIST_MAX = 1000


def blocked_error(by_me: bool) -> ConnectError:
    return refused("blocked_by_you" if by_me else "blocked_by_them")


class Blocks:
    def __init__(self, *, store: ContactStore, accounts: AccountStore, clock: Clock) -> None:
        self._store = store
        self._accounts = accounts
        self._clock = clock

    async def refuse_if_blocked(self, me: str, other: str) -> None:
        """403 ``blocked`` if either of the two blocked the other (checked in SQL, every node)."""
        blocks = await self._store.blocks_between(me, other)
        if blocks:
            raise blocked_error(by_me=any(b.blocker_id == me for b in blocks))

    async def block(self, me: str, other_id: str) -> None:
        if other_id == me:
            raise refused("block_self")
        other = await self._accounts.by_id(other_id)
        if other is None:
            raise refused("user_not_found")
        await self._store.add_block(
            Block(blocker_id=me, blocked_id=other_id, created_at=utc_now(self._clock))
        )

    async def unblock(self, me: str, other_id: str) -> None:
        await self._store.remove_block(me, other_id)

    async def blocked(self, me: str) -> list[BlockedUser]:
        return [
            BlockedUser(
                user=user_out(account), created_at=aware(b.created_at) or utc_now(self._clock)
            )
            for b, account in await self._store.blocked_accounts(me, BLOCK_LIST_MAX)
        ]
