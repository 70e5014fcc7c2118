"""Online / last seen for the people one talks to, pushed live, on every node.

Who is told: everyone who shares a channel with the user, except across a
block (either way) and never anyone when the user's visibility is
``nobody``. When: a new (not resumed) gateway place of the user is welcomed
(online), and the user's last place ends (offline) — closed, expired after
the resume grace, or ended by a survivor after its node died (the cluster
tells the features ``on_gone`` for those too). A dropped socket whose place
still waits for a resume keeps the user online; that is what the place is
for. Pushes are best effort (``GET /api/presence`` heals a missed one) and run
as background tasks so a hello is never slowed by them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Protocol

from connect.clock import Clock, utc_now
from connect.delivery import Deliverer
from connect.errors import faults
from connect.gateway.connection import Client
from connect.identity.service import user_subject
from connect.presence.schemas import PresenceOut, Visibility
from connect.presence.store import Places, PresenceStore
from connect.storage.times import aware

PEERS_MAX = 1000


class Peers(Protocol):
    async def peers_of(self, user_id: str) -> list[str]:
        """Who shares a channel with ``user_id``, not blocked either way."""
        ...


class PresenceService:
    def __init__(
        self,
        *,
        store: PresenceStore,
        places: Places,
        peers: Peers,
        deliverer: Deliverer,
        clock: Clock,
    ) -> None:
        self._store = store
        self._places = places
        self._peers = peers
        self._deliver = deliverer
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    async def online(self, user_id: str) -> bool:
        return await self._places.present(user_subject(user_id))

    async def visibility(self, me: str) -> Visibility:
        row = (await self._store.settings([me])).get(me)
        return "nobody" if row is not None and row.visibility == "nobody" else "contacts"

    async def set_visibility(self, me: str, visibility: Visibility) -> Visibility:
        before = await self.visibility(me)
        await self._store.set_visibility(me, visibility)
        if before != visibility:
            if visibility == "nobody":
                await self._announce(me, PresenceOut(user_id=me, online=False, last_seen_at=None))
            else:
                await self._announce_state(me)
        return visibility

    async def of_peers(self, me: str) -> list[PresenceOut]:
        """The presence of the people I share a channel with who let me see it."""
        peers = (await self._peers.peers_of(me))[:PEERS_MAX]
        settings = await self._store.settings(peers)
        out = []
        for peer in peers:
            row = settings.get(peer)
            if row is not None and row.visibility == "nobody":
                continue
            out.append(
                PresenceOut(
                    user_id=peer,
                    online=await self.online(peer),
                    last_seen_at=aware(row.last_seen_at) if row is not None else None,
                )
            )
        return out

    async def hide_from(self, me: str, other: str) -> None:
        """``me`` blocked ``other``: my devices stop showing their presence at once. The
        blocked side is not pushed anything (that would announce the block); it simply
        hears nothing more of me, and its next ``GET /api/presence`` leaves me out."""
        hidden = {"userId": other, "online": False, "lastSeenAt": None}
        self._deliver.deliver_subject(user_subject(me), "presence", hidden)

    # Gateway hooks

    async def on_welcome(self, client: Client, resumed: bool) -> None:
        if client.account_id is None or resumed:
            return
        self._spawn(self._came_online(client.account_id))

    async def on_suspend(self, client: Client) -> None:
        return None

    async def on_resume(self, client: Client) -> None:
        return None

    async def on_gone(self, client: Client) -> None:
        if client.account_id is None:
            return
        self._spawn(self._maybe_offline(client.account_id))

    async def _came_online(self, me: str) -> None:
        await self._store.seen(me, utc_now(self._clock))
        await self._announce_state(me)

    async def _maybe_offline(self, me: str) -> None:
        if await self.online(me):
            return  # another device (here or on another node) still holds a place
        await self._store.seen(me, utc_now(self._clock))
        await self._announce_state(me)

    async def _announce_state(self, me: str) -> None:
        row = (await self._store.settings([me])).get(me)
        if row is not None and row.visibility == "nobody":
            return
        await self._announce(
            me,
            PresenceOut(
                user_id=me,
                online=await self.online(me),
                last_seen_at=aware(row.last_seen_at) if row is not None else None,
            ),
        )

    async def _announce(self, me: str, state: PresenceOut) -> None:
        payload = state.wire()
        for peer in (await self._peers.peers_of(me))[:PEERS_MAX]:
            self._deliver.deliver_subject(user_subject(peer), "presence", payload)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as exc:
            faults.report("presence", exc)
