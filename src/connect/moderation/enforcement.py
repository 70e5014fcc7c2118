"""Making a ban bite on whoever is connected right now."""

from __future__ import annotations

from typing import Any

from connect.gateway import close_codes
from connect.gateway.connection import Client
from connect.gateway.hub import Hub
from connect.identity.service import IpHasher
from connect.matching.service import MatchingService
from connect.moderation.bans import Scope, subject_of_ban


class GatewayEnforcer:
    """The :class:`~connect.moderation.bans.LiveEnforcer` of one node."""

    def __init__(self, hub: Hub, matching: MatchingService, ip_hasher: IpHasher) -> None:
        self._hub = hub
        self._matching = matching
        self._ip_hasher = ip_hasher

    async def enforce(self, scope: Scope, value: str, payload: dict[str, Any]) -> int:
        """Enforce on this node, or on every node when the gateway is clustered."""
        cluster = self._hub.cluster
        if cluster is not None:
            await cluster.broadcast(
                {"t": "ban", "scope": scope, "value": value, "payload": payload}
            )
            return 0
        return await self.enforce_local(scope, value, payload)

    async def on_broadcast(self, message: dict[str, Any]) -> None:
        if message.get("t") == "ban":
            await self.enforce_local(message["scope"], message["value"], message["payload"])

    async def enforce_local(self, scope: Scope, value: str, payload: dict[str, Any]) -> int:
        targets = [c for c in self._hub.clients() if self._names(c, scope, value)]
        for client in targets:
            await self._matching.leave(client)
            await self._matching.end(client, "banned")
            if client.conn is not None:
                client.conn.push_event("banned", payload)
                client.conn.close(close_codes.BANNED, "banned")
            else:
                await self._hub.evict(client)
        return len(targets)

    def _names(self, client: Client, scope: Scope, value: str) -> bool:
        """Whether a ban ``(scope, value)`` names this connected client."""
        if scope != "ip":
            return client.subject == subject_of_ban(scope, value)
        if "/" not in value:
            return client.ip_hash == value
        conn = client.conn
        prefix = int(value.rsplit("/", 1)[1])
        return conn is not None and self._ip_hasher.hash_network(conn.ip, prefix) == value
