"""Matchmaking for the strangers strand: queue, pair, skip, and what a lost socket means.

Why one ~450-line module (over 400 lines on purpose): the queue, pairing, the avoid list and the
first-minute notices (queue-status, match-timeout) all act on the same waiting
ticket and its lifecycle hooks; the rules themselves live in rules.py and the
stores, so what remains here is the orchestration of one ticket.

The service turns queue operations into sessions and tells both sides. It
owns no state of its own: waiting tickets live in a :class:`MatchStore`,
pairings in the session service, and the client's last criteria on the
gateway client (so ``next`` can re-enter the queue with them).

Who sends the offer: the side that waited longer is the initiator; it has
usually had its camera open for longer and is ready to negotiate.

While a visitor waits, the node holding its socket keeps a note of it
(:class:`_Waiter`) and, from the housekeeping sweep each second, sends it
``queue-status`` every ``status_every_s`` and one ``match-timeout`` after
``timeout_s``. The counts come from one cached computation per second per
node (on Redis: one script summing the live nodes' socket sets and the
queues), so a thousand waiting visitors cost the same as one. Whether a
noted visitor still waits is asked of the store in one batch for all who
are due, because on Redis another node may have matched it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import structlog

from connect.clock import Clock
from connect.delivery import Deliverer
from connect.errors import ConnectError
from connect.events.service import NO_EVENTS, Publisher
from connect.framecheck.schemas import FrameCheck
from connect.gateway.connection import Client
from connect.geo.service import GeoService
from connect.identity.service import kind_of
from connect.matching.rules import MatchPolicy, Ticket, common_interests, narrowing
from connect.matching.schemas import (
    JoinQueue,
    Matched,
    MatchTimeout,
    QueueCounts,
    Queued,
    QueueStatus,
)
from connect.matching.store import MatchStore
from connect.observability.metrics import Metrics
from connect.sessions.models import Member, Session
from connect.sessions.service import SessionService, new_peer_id
from connect.turn.service import TurnService

log = structlog.get_logger(__name__)

CRITERIA_TTL_S = 86_400.0
#: The counts behind queue-status are computed at most this often per node.
COUNTS_TTL_S = 1.0

Counter = Callable[[], Awaitable[tuple[int, dict[str, int]]]]


@dataclass(slots=True)
class _Waiter:
    """A visitor waiting whose socket this node holds: when to tell it what."""

    ticket: Ticket
    next_status: float
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class Pairing:
    session: Session
    initiator: Ticket
    other: Ticket


def _no_frame_check(mode: str) -> FrameCheck | None:
    return None


class MatchingService:
    def __init__(
        self,
        *,
        store: MatchStore,
        sessions: SessionService,
        deliverer: Deliverer,
        turn: TurnService,
        policy: MatchPolicy,
        clock: Clock,
        metrics: Metrics,
        events: Publisher = NO_EVENTS,
        geo: GeoService | None = None,
        counter: Counter | None = None,
        timeout_s: float = 20.0,
        status_every_s: float = 3.0,
    ) -> None:
        self._events = events
        self._geo = geo
        self._counter = counter
        self.timeout_s = timeout_s
        self.status_every_s = status_every_s
        self._waiters: dict[str, _Waiter] = {}
        self._counts_cache: tuple[int, dict[str, int]] | None = None
        self._counts_at = float("-inf")
        self._store = store
        self._sessions = sessions
        self._deliver = deliverer
        self._turn = turn
        self.policy = policy
        self._clock = clock
        self._metrics = metrics
        self._recent_matches: deque[float] = deque()
        self.on_skip: Callable[[str, float], None] | None = None
        # matched.frameCheck for a session of this mode (connect.framecheck), or None.
        self.frame_check: Callable[[str], FrameCheck | None] = _no_frame_check
        self.park_ttl_s = 120.0

    async def prepare_join(self, client: Client, criteria: JoinQueue) -> Ticket:
        """Check that ``client`` may wait and remember its criteria; enqueue with :meth:`enqueue`.

        Split in two so the gateway can acknowledge ``join-queue`` (or refuse
        it) before ``queued``/``matched`` follow.
        """
        if await self._sessions.current(client.id) is not None:
            raise ConnectError(
                "already_in_session", "end the current session first (next or end-call)"
            )
        waiting = await self._store.get(client.id)
        if waiting is not None and not criteria.update:
            raise ConnectError("already_queued", "already waiting in the queue")
        await self._store.set_criteria(
            client.id,
            criteria.model_dump_json(exclude={"peer_id", "update"}).encode(),
            CRITERIA_TTL_S,
        )
        ticket = self._ticket(client, criteria, self._clock.now(), self.country_of(client))
        if waiting is not None:
            # The one-click widen: new criteria, the same place (waiting time) in the queue.
            # Gone meanwhile means matched meanwhile (another join or node took it).
            if await self._store.remove(client.id) is None:
                raise ConnectError("already_in_session", "matched while the criteria changed")
            ticket = replace(ticket, since=waiting.since)
        return ticket

    def country_of(self, client: Client) -> str | None:
        """The visitor's detected country (see :mod:`connect.geo.service`), None if unknown."""
        conn = client.conn
        if self._geo is None or conn is None:
            return None
        return self._geo.country(conn.ip, conn.country_hint)

    async def prepare_next(
        self, client: Client, *, avoid: bool = False, session_id: str | None = None
    ) -> Ticket | None:
        """Skip the current partner (if any); return the ticket to wait with.

        None when the client is already waiting. With ``avoid`` the partner
        skipped (or, after a ``peer-ended``, the partner of ``session_id``)
        goes on the client's avoid list; the target is resolved before the
        session ends so a refused ``session_id`` changes nothing.
        """
        raw = await self._store.get_criteria(client.id)
        if raw is None:
            raise ConnectError("not_queued", "join-queue first: there are no criteria to reuse")
        criteria = JoinQueue.model_validate_json(raw)
        pair = await self._avoid_target(client, session_id) if avoid else None
        await self.end(client, "skipped")
        if pair is not None:
            await self.avoid(*pair)
        if await self._store.get(client.id) is not None:
            return None
        return self._ticket(client, criteria, self._clock.now(), self.country_of(client))

    async def enqueue(self, ticket: Ticket) -> Pairing | None:
        """Pair ``ticket`` with the longest-waiting compatible visitor, or let it wait."""
        partner = await self._store.pair_or_wait(ticket, self._clock.now(), self.policy)
        if partner is None:
            self._deliver.deliver(
                ticket.client_id, "queued", Queued(since=int(ticket.since * 1000)).wire()
            )
            old = self._waiters.get(ticket.client_id)
            waiter = _Waiter(ticket, 0.0, timed_out=old is not None and old.timed_out)
            # The first queue-status goes out with the next sweep (within a second).
            self._waiters[ticket.client_id] = waiter
            return None
        self._waiters.pop(ticket.client_id, None)
        return await self._start(partner, ticket)

    async def leave(self, client: Client) -> bool:
        self._waiters.pop(client.id, None)
        await self._store.unpark(client.id)
        return await self._store.remove(client.id) is not None

    async def counts(self) -> tuple[int, dict[str, int]]:
        """(sockets online, waiting per mode), computed at most once per ``COUNTS_TTL_S``."""
        mono = self._clock.monotonic()
        if self._counts_cache is not None and mono - self._counts_at < COUNTS_TTL_S:
            return self._counts_cache
        if self._counter is not None:
            found = await self._counter()
        else:
            found = (0, await self._store.waiting())
        self._counts_cache, self._counts_at = found, mono
        return found

    async def queue_status(self, client: Client, mode: str | None) -> QueueCounts:
        """The ack of ``queue-status``: counts for the start screen or the waiting screen."""
        online, counts = await self.counts()
        waiter = self._waiters.get(client.id)
        if mode is None and waiter is not None:
            mode = waiter.ticket.mode
        waiting = counts.get(mode, 0) if mode is not None else sum(counts.values())
        return QueueCounts(online=online, waiting=waiting, country=self.country_of(client))

    async def tell_waiting(self) -> int:
        """Send the due ``queue-status`` and ``match-timeout`` events; return how many.

        Run from the sweep. Visitors no longer waiting (matched here or on
        another node, gone) are forgotten when they come due.
        """
        if not self._waiters:
            return 0
        now = self._clock.now()
        due = [
            w
            for w in self._waiters.values()
            if now >= w.next_status or (not w.timed_out and now - w.ticket.since >= self.timeout_s)
        ]
        if not due:
            return 0
        alive = await self._store.waiting_ids([w.ticket.client_id for w in due])
        online, counts = await self.counts()
        sent = 0
        for waiter in due:
            cid = waiter.ticket.client_id
            if cid not in alive:
                if self._waiters.get(cid) is waiter:
                    del self._waiters[cid]
                continue
            waited = now - waiter.ticket.since
            if not waiter.timed_out and waited >= self.timeout_s:
                waiter.timed_out = True
                notice = MatchTimeout(
                    waited_ms=int(waited * 1000),
                    suggest=narrowing(waiter.ticket, now, self.policy),
                )
                self._deliver.deliver(cid, "match-timeout", notice.wire())
                sent += 1
            if now >= waiter.next_status:
                self._push_status(waiter, online, counts, now)
                sent += 1
        return sent

    def _push_status(
        self, waiter: _Waiter, online: int, counts: dict[str, int], now: float
    ) -> None:
        ticket = waiter.ticket
        status = QueueStatus(
            online=online,
            waiting=max(1, counts.get(ticket.mode, 0)),
            elapsed_ms=max(0, int((now - ticket.since) * 1000)),
            narrow=narrowing(ticket, now, self.policy),
        )
        self._deliver.deliver(ticket.client_id, "queue-status", status.wire())
        waiter.next_status = now + self.status_every_s

    async def end(self, client: Client, reason: str) -> bool:
        """End the client's session; the partner is told why. Skips and ends block a rematch."""
        ended = await self._sessions.end(client.id, reason)
        if ended is None:
            return False
        session, partner = ended
        self._events.publish(
            "session.ended",
            sessionId=session.id,
            kind=session.kind,
            mode=session.mode,
            reason=reason,
            durationS=round(self._clock.now() - session.started_at, 3),
            messages=session.messages,
        )
        if reason == "skipped" and self.on_skip is not None:
            self.on_skip(client.subject, self._clock.now() - session.started_at)
        self._metrics.sessions_ended.labels(reason).inc()
        self._deliver.deliver(partner.client_id, "peer-ended", {"reason": reason})
        if reason in ("skipped", "ended"):
            me = session.member(client.id)
            assert me is not None
            now = self._clock.now()
            await self._store.remember_pair(
                me.subject, partner.subject, now + self.policy.recent_pair_s, now
            )
        return True

    async def avoid(self, subject: str, other: str) -> None:
        """``subject`` is never matched with ``other`` again for ``policy.avoid_s``."""
        now = self._clock.now()
        await self._store.avoid(
            subject, other, now + self.policy.avoid_s, now, self.policy.avoid_cap
        )

    async def avoid_reported(self, reporter: str, session_id: str) -> bool:
        """A stranger report also means "don't match me with this person again".

        ``reporter`` is the typed subject; the reported side is the other
        member of that random session, never someone the reporter names.
        """
        session = await self._sessions.get(session_id)
        if session is None or session.kind != "random":
            return False
        me = session.member_by_subject(reporter)
        other = None if me is None else session.partner_of(me.client_id)
        if me is None or other is None or other.subject == me.subject:
            return False
        await self.avoid(me.subject, other.subject)
        return True

    async def _avoid_target(self, client: Client, session_id: str | None) -> tuple[str, str] | None:
        """(me, partner) subjects of the live session, else of ``session_id`` if ours."""
        session = await self._sessions.current(client.id)
        if session is None and session_id is not None:
            session = await self._sessions.get(session_id)
            mine = session is not None and (
                session.member(client.id) is not None
                or session.member_by_subject(client.subject) is not None
            )
            if session is None or session.kind != "random" or not mine:
                raise ConnectError(
                    "not_in_session", "sessionId names no chat of yours that can still be avoided"
                )
        if session is None:
            return None
        me = session.member(client.id) or session.member_by_subject(client.subject)
        other = None if me is None else session.partner_of(me.client_id)
        if me is None or other is None:
            return None
        return me.subject, other.subject

    async def sweep(self) -> list[Pairing]:
        """Pair visitors whose widened criteria now accept each other."""
        pairs = await self._store.sweep(self._clock.now(), self.policy)
        started = [await self._start(first, second) for first, second in pairs]
        await self.tell_waiting()
        return started

    async def waiting(self) -> dict[str, int]:
        return await self._store.waiting()

    # Gateway lifecycle: a dropped socket keeps its place for the grace period.

    async def on_suspend(self, client: Client) -> None:
        self._waiters.pop(client.id, None)
        ticket = await self._store.remove(client.id)
        if ticket is not None:
            await self._store.park(client.id, ticket, self.park_ttl_s)
        session = await self._sessions.current(client.id)
        if session is not None:
            partner = session.partner_of(client.id)
            assert partner is not None
            self._deliver.deliver(partner.client_id, "peer-reconnecting", {})

    async def on_resume(self, client: Client) -> None:
        session = await self._sessions.current(client.id)
        if session is not None:
            partner = session.partner_of(client.id)
            assert partner is not None
            self._deliver.deliver(partner.client_id, "peer-reconnected", {})
        ticket = await self._store.unpark(client.id)
        if ticket is not None and session is None:
            await self.enqueue(ticket)

    async def on_gone(self, client: Client) -> None:
        self._waiters.pop(client.id, None)
        await self._store.remove(client.id)
        await self._store.unpark(client.id)
        await self._store.forget_criteria(client.id)
        await self.end(client, "disconnected")

    async def _start(self, first: Ticket, second: Ticket) -> Pairing:
        initiator, other = (first, second) if first.since <= second.since else (second, first)
        self._waiters.pop(first.client_id, None)
        self._waiters.pop(second.client_id, None)
        common = common_interests(initiator, other)
        a = Member(
            initiator.client_id,
            new_peer_id(),
            initiator.device_id,
            initiator.ip_hash,
            kind_of(initiator.device_id),
        )
        b = Member(
            other.client_id, new_peer_id(), other.device_id, other.ip_hash, kind_of(other.device_id)
        )
        session = await self._sessions.start(initiator.mode, a, b, common)
        now = self._clock.now()
        pairs = ((a, b, initiator, other, True), (b, a, other, initiator, False))
        for me, peer, ticket, peer_ticket, is_initiator in pairs:
            self._metrics.match_wait.labels(ticket.mode).observe(max(0.0, now - ticket.since))
            matched = Matched(
                session_id=session.id,
                peer_id=peer.peer_id,
                initiator=is_initiator,
                mode=initiator.mode,
                common_interests=common,
                ice_servers=self._turn.ice_config(me.subject).ice_servers,
                country=peer_ticket.shown_country,
                frame_check=self.frame_check(initiator.mode),
            )
            self._deliver.deliver(me.client_id, "matched", matched.wire())
        self._metrics.matches.labels(session.mode).inc()
        self._events.publish(
            "session.started",
            sessionId=session.id,
            kind="random",
            mode=session.mode,
            commonInterests=len(common),
            waitS=round(now - initiator.since, 3),
        )
        at = self._clock.monotonic()
        self._recent_matches.append(at)
        self._forget_matches_before(at - 60)
        return Pairing(session, initiator, other)

    def matches_last_minute(self) -> int:
        self._forget_matches_before(self._clock.monotonic() - 60)
        return len(self._recent_matches)

    def _forget_matches_before(self, horizon: float) -> None:
        """Trimmed at every match, not only when the dashboard asks: otherwise a node
        nobody looks at keeps a timestamp per match for ever (the soak's growth)."""
        recent = self._recent_matches
        while recent and recent[0] < horizon:
            recent.popleft()

    @staticmethod
    def _ticket(client: Client, criteria: JoinQueue, now: float, country: str | None) -> Ticket:
        countries = set(criteria.countries)
        if criteria.country == "mine" and country is not None:
            countries.add(country)
        return Ticket(
            client_id=client.id,
            device_id=client.subject,
            ip_hash=client.ip_hash,
            mode=criteria.mode,
            language=criteria.language,
            region=criteria.region,
            interests=frozenset(criteria.interests),
            since=now,
            country=country,
            countries=frozenset(countries),
            hide_country=criteria.hide_country,
        )
