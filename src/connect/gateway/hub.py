"""The clients this node holds, and the rules of losing and regaining a socket.

When a socket drops without a normal close, its client is *suspended*: it
keeps its place, frames for it collect in a bounded gap buffer, and the
features are told (the partner learns ``peer-reconnecting``). If a new
socket presents the resume token within ``grace_s`` the place is handed
over, the gap is replayed and the features are told it *resumed*;
otherwise the client is *gone* and the features clean up (the partner gets
``peer-ended {"reason": "disconnected"}``).

With a :class:`~connect.gateway.cluster.Cluster` attached, the same rules
hold across nodes: frames for clients held elsewhere are forwarded, a
resume token presented on another node claims the place there, and places
of a node that died or shut down are finished by the survivors.

Features subscribe through :class:`Lifecycle`; the hub knows nothing of
queues or sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from connect import ids
from connect.errors import faults
from connect.gateway import close_codes, codec
from connect.gateway.connection import Client, Connection
from connect.identity.service import Principal
from connect.observability.metrics import Metrics
from connect.storage.redis import UNREACHABLE

if TYPE_CHECKING:
    from connect.gateway.cluster import Cluster

log = structlog.get_logger(__name__)


class Lifecycle(Protocol):
    async def on_suspend(self, client: Client) -> None: ...

    async def on_resume(self, client: Client) -> None: ...

    async def on_gone(self, client: Client) -> None: ...


class Hub:
    def __init__(self, grace_s: float, gap_frames: int, metrics: Metrics) -> None:
        self.grace_s = grace_s
        self._gap_frames = gap_frames
        self._metrics = metrics
        self._clients: dict[str, Client] = {}
        self._by_resume: dict[str, str] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._finishing: set[asyncio.Task[None]] = set()  # places ended while Redis was away
        self._lifecycles: list[Lifecycle] = []
        self._welcome_hooks: list[Callable[[Client, bool], Awaitable[None]]] = []
        self._by_subject: dict[str, set[str]] = {}
        self.cluster: Cluster | None = None

    def subscribe(self, lifecycle: Lifecycle) -> None:
        self._lifecycles.append(lifecycle)

    # -- delivery ----------------------------------------------------------------

    def deliver(self, client_id: str, event: str, data: Mapping[str, Any]) -> bool:
        return self.deliver_frame(client_id, codec.event(event, data))

    def deliver_frame(self, client_id: str, frame: str) -> bool:
        client = self._clients.get(client_id)
        if client is not None:
            return client.push(frame)
        if self.cluster is not None:
            self.cluster.forward(client_id, frame)
            return True
        return False

    def deliver_subject(self, subject: str, event: str, data: Mapping[str, Any]) -> int:
        frame = codec.event(event, data)
        local = self.of_subject(subject)
        sent = sum(client.push(frame) for client in local)
        if self.cluster is not None:
            self.cluster.forward_subject(subject, frame, {c.id for c in local})
        return sent

    # -- hooks ---------------------------------------------------------------------

    def on_welcome(self, hook: Callable[[Client, bool], Awaitable[None]]) -> None:
        """Run ``hook(client, resumed)`` after every welcome (e.g. push offline messages)."""
        self._welcome_hooks.append(hook)

    async def welcomed(self, client: Client, resumed: bool) -> None:
        for hook in self._welcome_hooks:
            try:
                await hook(client, resumed)
            except Exception as exc:
                faults.report("welcome hook", exc)

    async def notify_resumed(self, client: Client) -> None:
        for lifecycle in self._lifecycles:
            await lifecycle.on_resume(client)

    async def notify_suspended(self, client: Client) -> None:
        for lifecycle in self._lifecycles:
            await lifecycle.on_suspend(client)

    async def notify_gone(self, client: Client) -> None:
        for lifecycle in self._lifecycles:
            try:
                await lifecycle.on_gone(client)
            except Exception as exc:
                faults.report("lifecycle on_gone", exc)

    # -- lookup --------------------------------------------------------------------

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def clients(self) -> list[Client]:
        return list(self._clients.values())

    def of_subject(self, subject: str) -> list[Client]:
        return [self._clients[cid] for cid in self._by_subject.get(subject, ())]

    async def live(self, subject: str) -> list[Client]:
        """The subject's connected clients on any node, most recently connected first."""
        if self.cluster is not None:
            return await self.cluster.live(subject)
        clients = [c for c in self.of_subject(subject) if c.conn is not None]
        return sorted(clients, key=lambda c: c.attached, reverse=True)

    # -- attaching and detaching -------------------------------------------------

    async def attach_new(self, principal: Principal, ip_hash: str, conn: Connection) -> Client:
        client = Client(ids.token_urlsafe(12), principal, ip_hash, self._new_resume(""))
        self._adopt(client, conn)
        if self.cluster is not None:
            await self.cluster.register(client)
        return client

    def _adopt(self, client: Client, conn: Connection) -> None:
        self._by_resume[client.resume_token] = client.id
        client.conn = conn
        client.attached = time.time()
        self._clients[client.id] = client
        self._by_subject.setdefault(client.subject, set()).add(client.id)

    async def attach_resume(
        self, resume_token: str, principal: Principal, ip_hash: str, conn: Connection
    ) -> Client | None:
        """Take a held place for a new socket; None when the token is unknown or not the holder's.

        The returned client is not yet live: frames keep collecting in its gap
        until :meth:`activate`, called once the welcome has been queued, so the
        welcome is always the first frame the new socket sees.
        """
        client_id = self._by_resume.get(resume_token)
        client = self._clients.get(client_id) if client_id is not None else None
        if client is None:
            if self.cluster is None:
                return None
            return await self._claim_remote(resume_token, principal, ip_hash)
        if client.subject != principal.key:
            return None
        timer = self._timers.pop(client.id, None)
        if timer is not None:
            timer.cancel()
        old = client.conn
        if old is not None:
            old.close(close_codes.REPLACED, "replaced by a resumed connection")
            client.conn = None
            # What arrived while the old socket was closing (it waited in the gap) first.
            client.gap = deque(client.gap or (), maxlen=self._gap_frames)
        else:
            self._metrics.suspended.dec()
        del self._by_resume[resume_token]
        client.resume_token = self._new_resume(resume_token)
        self._by_resume[client.resume_token] = client.id
        client.principal = principal
        client.ip_hash = ip_hash
        if self.cluster is not None:
            try:
                await self.cluster.register(client)
            except Exception:
                # The hello fails (503/1013): keep the place suspended and resumable
                # with the token the client still holds, its grace period restarted.
                del self._by_resume[client.resume_token]
                client.resume_token = resume_token
                self._by_resume[resume_token] = client.id
                if client.gap is None:
                    client.gap = deque(maxlen=self._gap_frames)
                self._metrics.suspended.inc()
                self._timers[client.id] = asyncio.get_running_loop().create_task(
                    self._expire_later(client)
                )
                raise
        self._metrics.resumes.inc()
        return client

    async def _claim_remote(
        self, resume_token: str, principal: Principal, ip_hash: str
    ) -> Client | None:
        assert self.cluster is not None
        client_id = await self.cluster.claim(resume_token, principal.key)
        if client_id is None:
            return None
        client = Client(client_id, principal, ip_hash, self._new_resume(resume_token))
        client.gap = deque(maxlen=self._gap_frames)
        self._by_resume[client.resume_token] = client.id
        self._clients[client.id] = client
        self._by_subject.setdefault(client.subject, set()).add(client.id)
        await self.cluster.register(client)
        client.gap.extend(await self.cluster.take_gap(client_id))
        self._metrics.resumes.inc()
        return client

    def activate(self, client: Client, conn: Connection) -> None:
        """Make a resumed client live on ``conn`` and replay what collected meanwhile."""
        client.conn = conn
        client.attached = time.time()
        gap, client.gap = client.gap, None
        for frame in gap or ():
            conn.push(frame)
        if client.gap_dropped:
            log.warning("resume_gap_overflow", dropped=client.gap_dropped)
            client.gap_dropped = 0

    async def detach(self, client: Client, conn: Connection, *, keep_place: bool) -> None:
        """The socket ``conn`` of ``client`` is gone; suspend the client or let it go."""
        if client.conn is not conn:
            return
        client.conn = None
        if keep_place and self.grace_s > 0:
            # Frames that arrived while the server closed this socket wait there already.
            client.gap = deque(client.gap or (), maxlen=self._gap_frames)
            self._metrics.suspended.inc()
            self._timers[client.id] = asyncio.get_running_loop().create_task(
                self._expire_later(client)
            )
            try:
                if self.cluster is not None:
                    await self.cluster.suspend(client)
                await self.notify_suspended(client)
            except UNREACHABLE as exc:
                # Redis is away: the place stays suspended here and the timer still runs;
                # the cluster re-registers its state once Redis is back.
                log.warning("suspend_not_shared", error=type(exc).__name__)
            return
        await self._drop(client)

    async def _expire_later(self, client: Client) -> None:
        """End a suspended place when its grace period passes without a resume.

        Never raises (a timer's failure would otherwise be an unretrieved task
        exception and a place nobody ends): while Redis is unreachable, the
        registry part is retried with backoff by :meth:`_drop`.
        """
        try:
            await asyncio.sleep(self.grace_s)
            self._timers.pop(client.id, None)
            if client.conn is None and self._clients.get(client.id) is client:
                self._metrics.suspended.dec()
                await self._drop(client)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            faults.report("place expiry", exc)

    async def evict(self, client: Client) -> None:
        """Forget a suspended client at once (e.g. banned while its socket was down)."""
        timer = self._timers.pop(client.id, None)
        if timer is not None:
            timer.cancel()
            self._metrics.suspended.dec()
        await self._drop(client)

    def release(self, client_id: str) -> list[str]:
        """Another node took this client over: forget it without telling the features.

        Returns the frames still buffered for it, to be forwarded to the new holder.
        """
        client = self._clients.get(client_id)
        if client is None:
            return []
        timer = self._timers.pop(client.id, None)
        if timer is not None:
            timer.cancel()
            self._metrics.suspended.dec()
        gap = list(client.gap or ())
        if client.conn is not None:
            client.conn.close(close_codes.REPLACED, "resumed on another node")
            client.conn = None
        self._forget(client)
        return gap

    async def _drop(self, client: Client) -> None:
        if not self._forget(client):
            return
        if self.cluster is not None:
            try:
                if not await self.cluster.finish(client.id):
                    return  # another node claimed it meanwhile
            except UNREACHABLE as exc:
                log.warning("place_end_deferred", error=type(exc).__name__)
                task = asyncio.get_running_loop().create_task(self._finish_later(client))
                self._finishing.add(task)
                task.add_done_callback(self._finishing.discard)
                return
        await self.notify_gone(client)

    async def _finish_later(self, client: Client) -> None:
        """Finish a forgotten place in the registry once Redis answers again, then tell the
        features (the partner learns ``peer-ended``); retried with backoff, never raises."""
        assert self.cluster is not None
        delay = 0.2
        try:
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                try:
                    if not await self.cluster.finish(client.id):
                        return
                    break
                except UNREACHABLE:
                    continue
            await self.notify_gone(client)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            faults.report("place end", exc)

    def _forget(self, client: Client) -> bool:
        if self._clients.pop(client.id, None) is None:
            return False
        ids = self._by_subject.get(client.subject)
        if ids is not None:
            ids.discard(client.id)
            if not ids:
                del self._by_subject[client.subject]
        self._by_resume.pop(client.resume_token, None)
        client.gap = None
        return True

    async def shutdown(self) -> None:
        """Stop this node's timers; with a cluster, hand suspended places to the survivors."""
        for timer in list(self._timers.values()):
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        self._timers.clear()
        for task in list(self._finishing):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.cluster is not None:
            await self.cluster.orphan([c for c in self._clients.values()])

    def _new_resume(self, previous: str) -> str:
        token = ids.token_urlsafe(24)
        while token == previous or token in self._by_resume:
            token = ids.token_urlsafe(24)
        return token
