"""The clients this node holds, and the rules of losing and regaining a socket.

When a socket drops without a normal close, its client is *suspended*: it
keeps its place, frames for it collect in a bounded gap buffer, and the
features are told (the partner learns ``peer-reconnecting``). If a new
socket presents the resume token within ``grace_s`` the place is handed
over, the gap is replayed and the features are told it *resumed*;
otherwise the client is *gone* and the features clean up (the partner gets
``peer-ended {"reason": "disconnected"}``).

Features subscribe through :class:`Lifecycle`; the hub knows nothing of
queues or sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import structlog

from connect.gateway import close_codes, codec
from connect.gateway.connection import Client, Connection
from connect.identity.service import Principal
from connect.observability.metrics import Metrics

log = structlog.get_logger(__name__)


class Lifecycle(Protocol):
    async def on_suspend(self, client: Client) -> None: ...

    async def on_resume(self, client: Client) -> None: ...

    async def on_gone(self, client: Client) -> None: ...


class Hub:
    def __init__(self, grace_s: float, gap_frames: int, metrics: Metrics) -> None:
        self._grace_s = grace_s
        self._gap_frames = gap_frames
        self._metrics = metrics
        self._clients: dict[str, Client] = {}
        self._by_resume: dict[str, str] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._lifecycles: list[Lifecycle] = []
        self._welcome_hooks: list[Callable[[Client, bool], Awaitable[None]]] = []
        self._by_subject: dict[str, set[str]] = {}

    def subscribe(self, lifecycle: Lifecycle) -> None:
        self._lifecycles.append(lifecycle)

    def deliver(self, client_id: str, event: str, data: Mapping[str, Any]) -> bool:
        client = self._clients.get(client_id)
        if client is None:
            return False
        return client.push(codec.event(event, data))

    def deliver_subject(self, subject: str, event: str, data: Mapping[str, Any]) -> int:
        frame = codec.event(event, data)
        return sum(client.push(frame) for client in self.of_subject(subject))

    def on_welcome(self, hook: Callable[[Client, bool], Awaitable[None]]) -> None:
        """Run ``hook(client, resumed)`` after every welcome (e.g. push offline messages)."""
        self._welcome_hooks.append(hook)

    async def welcomed(self, client: Client, resumed: bool) -> None:
        for hook in self._welcome_hooks:
            try:
                await hook(client, resumed)
            except Exception:
                log.exception("welcome_hook_failed")

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def clients(self) -> list[Client]:
        return list(self._clients.values())

    def of_subject(self, subject: str) -> list[Client]:
        return [self._clients[cid] for cid in self._by_subject.get(subject, ())]

    def attach_new(self, principal: Principal, ip_hash: str, conn: Connection) -> Client:
        client = Client(secrets.token_urlsafe(12), principal, ip_hash, self._new_resume(""))
        self._by_resume[client.resume_token] = client.id
        client.conn = conn
        client.attached = time.monotonic()
        self._clients[client.id] = client
        self._by_subject.setdefault(client.subject, set()).add(client.id)
        return client

    def live(self, subject: str) -> list[Client]:
        """The subject's connected clients, most recently connected first."""
        clients = [c for c in self.of_subject(subject) if c.conn is not None]
        return sorted(clients, key=lambda c: c.attached, reverse=True)

    async def attach_resume(
        self, resume_token: str, principal: Principal, ip_hash: str, conn: Connection
    ) -> Client | None:
        """Give a held place to a new socket; None when the token is unknown or not the holder's."""
        client_id = self._by_resume.get(resume_token)
        client = self._clients.get(client_id) if client_id is not None else None
        if client is None or client.subject != principal.subject:
            return None
        timer = self._timers.pop(client.id, None)
        if timer is not None:
            timer.cancel()
        old = client.conn
        if old is not None:
            old.close(close_codes.REPLACED, "replaced by a resumed connection")
        was_suspended = old is None
        del self._by_resume[resume_token]
        client.resume_token = self._new_resume(resume_token)
        self._by_resume[client.resume_token] = client.id
        client.principal = principal
        client.ip_hash = ip_hash
        client.conn = conn
        client.attached = time.monotonic()
        if was_suspended:
            self._metrics.suspended.dec()
        self._metrics.resumes.inc()
        return client

    def replay_gap(self, client: Client) -> None:
        gap, client.gap = client.gap, None
        if gap and client.conn is not None:
            for frame in gap:
                client.conn.push(frame)
        if client.gap_dropped:
            log.warning("resume_gap_overflow", dropped=client.gap_dropped)
            client.gap_dropped = 0

    async def notify_resumed(self, client: Client) -> None:
        for lifecycle in self._lifecycles:
            await lifecycle.on_resume(client)

    async def detach(self, client: Client, conn: Connection, *, keep_place: bool) -> None:
        """The socket ``conn`` of ``client`` is gone; suspend the client or let it go."""
        if client.conn is not conn:
            return
        client.conn = None
        if keep_place and self._grace_s > 0:
            client.gap = deque(maxlen=self._gap_frames)
            self._metrics.suspended.inc()
            for lifecycle in self._lifecycles:
                await lifecycle.on_suspend(client)
            self._timers[client.id] = asyncio.get_running_loop().create_task(
                self._expire_later(client)
            )
            return
        await self._drop(client)

    async def _expire_later(self, client: Client) -> None:
        await asyncio.sleep(self._grace_s)
        self._timers.pop(client.id, None)
        if client.conn is None:
            self._metrics.suspended.dec()
            await self._drop(client)

    async def evict(self, client: Client) -> None:
        """Forget a suspended client at once (e.g. banned while its socket was down)."""
        timer = self._timers.pop(client.id, None)
        if timer is not None:
            timer.cancel()
            self._metrics.suspended.dec()
        await self._drop(client)

    async def _drop(self, client: Client) -> None:
        if self._clients.pop(client.id, None) is None:
            return
        ids = self._by_subject.get(client.subject)
        if ids is not None:
            ids.discard(client.id)
            if not ids:
                del self._by_subject[client.subject]
        self._by_resume.pop(client.resume_token, None)
        client.gap = None
        for lifecycle in self._lifecycles:
            try:
                await lifecycle.on_gone(client)
            except Exception:
                log.exception("lifecycle_on_gone_failed")

    def close_subject(self, subject: str, code: int, reason: str) -> int:
        """Close every live socket of ``subject`` (bans)."""
        closed = 0
        for client in self.of_subject(subject):
            if client.conn is not None:
                client.conn.close(code, reason)
                closed += 1
        return closed

    async def shutdown(self) -> None:
        for timer in list(self._timers.values()):
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        self._timers.clear()

    def _new_resume(self, previous: str) -> str:
        token = secrets.token_urlsafe(24)
        while token == previous or token in self._by_resume:
            token = secrets.token_urlsafe(24)
        return token
