"""Where waiting visitors wait.

The store's one essential operation is :meth:`MatchStore.pair_or_wait`:
find the longest-waiting compatible ticket and take it out of the queue, or
else put the newcomer in — atomically, so no waiting visitor is ever handed
to two people. In memory that atomicity comes from running on one event
loop without awaiting in between; the Redis store does it in one Lua
script.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable
from typing import Protocol

from connect.matching.rules import MatchPolicy, Ticket, compatible, pair_key


class MatchStore(Protocol):
    async def pair_or_wait(self, ticket: Ticket, now: float, policy: MatchPolicy) -> Ticket | None:
        """Return the partner taken out of the queue, or None after enqueuing ``ticket``."""
        ...

    async def remove(self, client_id: str) -> Ticket | None: ...

    async def get(self, client_id: str) -> Ticket | None: ...

    async def sweep(self, now: float, policy: MatchPolicy) -> list[tuple[Ticket, Ticket]]:
        """Pair whoever has become compatible through waiting (widening)."""
        ...

    async def waiting(self) -> dict[str, int]:
        """Waiting visitors by mode."""
        ...

    async def waiting_ids(self, client_ids: list[str]) -> set[str]:
        """Which of ``client_ids`` are still waiting (one round trip for all of them)."""
        ...

    async def remember_pair(
        self, device_a: str, device_b: str, until: float, now: float
    ) -> None: ...

    async def avoid(self, subject: str, other: str, until: float, now: float, cap: int) -> None:
        """``subject`` never meets ``other`` again before ``until``.

        Written to ``subject``'s own list only (at most ``cap`` entries, the
        least recently added dropped first); pairing refuses a pair when
        either side's list names the other.
        """
        ...

    async def avoided(self, subject: str, now: float) -> list[str]:
        """The subjects ``subject`` still avoids, least recently added first (tests, support)."""
        ...

    async def park(self, client_id: str, ticket: Ticket, ttl_s: float) -> None:
        """Keep a waiting ticket aside while its client's socket is down (resume)."""
        ...

    async def unpark(self, client_id: str) -> Ticket | None: ...

    async def set_criteria(self, client_id: str, criteria: bytes, ttl_s: float) -> None:
        """Remember a client's last join criteria, so ``next`` can reuse them on any node."""
        ...

    async def get_criteria(self, client_id: str) -> bytes | None: ...

    async def forget_criteria(self, client_id: str) -> None:
        """The client is gone for good: its criteria will never be reused."""
        ...


class MemoryMatchStore:
    """One node's queue: per mode, tickets sorted by the time they started waiting.

    Beside each mode's queue, an index per (mode, interest) holds the same
    entries for the tickets that named that interest. A newcomer who gave
    interests and has not waited long enough to widen accepts only someone
    sharing one, so its candidates are exactly the union of its interests'
    lists: walked merged, oldest first, the first that fits is the same
    partner a walk of the whole queue would find, at the cost of the lists'
    length instead of the queue's (measured in process, 4,000 waiting with
    distinct interests: 920 µs per join walking the queue, 6 µs with the
    index). A second index per (mode, country) does the same for a newcomer
    who chose countries (only tickets whose country is shown are in it); the
    smaller of the two candidate sets is walked when both apply.

    Avoid lists are a dict per subject (insertion-ordered, so the oldest
    entry is the first one) and one heap of expiry times that the sweep
    pops, so expired entries and emptied lists go away without a scan.
    Memory: at most ``avoid_cap`` entries per subject that avoided someone
    within ``avoid_s``; lists of this store live as long as the process.
    """

    def __init__(self) -> None:
        self._by_client: dict[str, Ticket] = {}
        self._queues: dict[str, list[tuple[float, str]]] = {}
        self._by_interest: dict[tuple[str, str], list[tuple[float, str]]] = {}
        self._by_country: dict[tuple[str, str], list[tuple[float, str]]] = {}
        self._recent: dict[str, float] = {}
        self._parked: dict[str, Ticket] = {}
        self._criteria: dict[str, bytes] = {}
        self._avoid: dict[str, dict[str, float]] = {}
        self._avoid_expiry: list[tuple[float, str, str]] = []

    async def pair_or_wait(self, ticket: Ticket, now: float, policy: MatchPolicy) -> Ticket | None:
        partner = self._find(ticket, now, policy)
        if partner is None:
            self._insert(ticket)
            return None
        self._discard(partner.client_id)
        return partner

    async def remove(self, client_id: str) -> Ticket | None:
        return self._discard(client_id)

    async def get(self, client_id: str) -> Ticket | None:
        return self._by_client.get(client_id)

    async def sweep(self, now: float, policy: MatchPolicy) -> list[tuple[Ticket, Ticket]]:
        """Walk each queue oldest first and pair each ticket with its oldest compatible partner.

        O(n²) in the worst case (everyone mutually incompatible); the queue of
        one node is small and the sweep runs about once a second.
        """
        self._prune_recent(now)
        self._prune_avoid(now)
        pairs: list[tuple[Ticket, Ticket]] = []
        for queue in self._queues.values():
            taken: set[str] = set()
            order = [self._by_client[cid] for _, cid in queue]
            for i, first in enumerate(order):
                if first.client_id in taken:
                    continue
                for second in order[i + 1 :]:
                    if second.client_id in taken:
                        continue
                    if self._fits(first, second, now, policy):
                        taken.update((first.client_id, second.client_id))
                        pairs.append((first, second))
                        break
        for first, second in pairs:
            self._discard(first.client_id)
            self._discard(second.client_id)
        return pairs

    async def waiting(self) -> dict[str, int]:
        return {mode: len(queue) for mode, queue in self._queues.items()}

    async def waiting_ids(self, client_ids: list[str]) -> set[str]:
        return {cid for cid in client_ids if cid in self._by_client}

    async def remember_pair(self, device_a: str, device_b: str, until: float, now: float) -> None:
        self._recent[pair_key(device_a, device_b)] = until

    async def avoid(self, subject: str, other: str, until: float, now: float, cap: int) -> None:
        if subject == other or cap <= 0:
            return
        entries = self._avoid.setdefault(subject, {})
        entries.pop(other, None)
        entries[other] = until
        while len(entries) > cap:
            del entries[next(iter(entries))]
        heapq.heappush(self._avoid_expiry, (until, subject, other))

    async def avoided(self, subject: str, now: float) -> list[str]:
        return [o for o, until in self._avoid.get(subject, {}).items() if until > now]

    async def park(self, client_id: str, ticket: Ticket, ttl_s: float) -> None:
        self._parked[client_id] = ticket

    async def unpark(self, client_id: str) -> Ticket | None:
        return self._parked.pop(client_id, None)

    async def set_criteria(self, client_id: str, criteria: bytes, ttl_s: float) -> None:
        self._criteria[client_id] = criteria

    async def get_criteria(self, client_id: str) -> bytes | None:
        return self._criteria.get(client_id)

    async def forget_criteria(self, client_id: str) -> None:
        self._criteria.pop(client_id, None)

    def _find(self, ticket: Ticket, now: float, policy: MatchPolicy) -> Ticket | None:
        candidates: Iterable[tuple[float, str]]
        waited = now - ticket.since
        lists: list[list[tuple[float, str]]] | None = None
        if ticket.interests and waited < policy.interest_widen_s:
            lists = [self._by_interest.get((ticket.mode, i), []) for i in ticket.interests]
        if ticket.countries and (policy.country_widen_s is None or waited < policy.country_widen_s):
            by_country = [self._by_country.get((ticket.mode, c), []) for c in ticket.countries]
            if lists is None or sum(map(len, by_country)) < sum(map(len, lists)):
                lists = by_country
        if lists is None:
            candidates = self._queues.get(ticket.mode, ())
        else:
            candidates = lists[0] if len(lists) == 1 else heapq.merge(*lists)
        for _, cid in candidates:
            candidate = self._by_client[cid]
            if self._fits(candidate, ticket, now, policy):
                return candidate
        return None

    def _fits(self, a: Ticket, b: Ticket, now: float, policy: MatchPolicy) -> bool:
        """The pure rules first; the pair memories only for a pair they allow."""
        if not compatible(a, b, now, policy, recently_paired=False):
            return False
        if self._avoid and (
            self._avoids(a.device_id, b.device_id, now)
            or self._avoids(b.device_id, a.device_id, now)
        ):
            return False
        if not self._recent:
            return True
        until = self._recent.get(pair_key(a.device_id, b.device_id))
        return until is None or until <= now

    def _avoids(self, subject: str, other: str, now: float) -> bool:
        entries = self._avoid.get(subject)
        if entries is None:
            return False
        until = entries.get(other)
        return until is not None and until > now

    def _prune_avoid(self, now: float) -> None:
        """Drop the entries whose time has passed (a heap item whose entry was re-added
        later, or dropped by the cap, no longer matches and is just discarded)."""
        heap = self._avoid_expiry
        while heap and heap[0][0] <= now:
            until, subject, other = heapq.heappop(heap)
            entries = self._avoid.get(subject)
            if entries is not None and entries.get(other) == until:
                del entries[other]
                if not entries:
                    del self._avoid[subject]

    def _prune_recent(self, now: float) -> None:
        expired = [key for key, until in self._recent.items() if until <= now]
        for key in expired:
            del self._recent[key]

    def _insert(self, ticket: Ticket) -> None:
        self._discard(ticket.client_id)
        self._by_client[ticket.client_id] = ticket
        entry = (ticket.since, ticket.client_id)
        bisect.insort(self._queues.setdefault(ticket.mode, []), entry)
        for interest in ticket.interests:
            bisect.insort(self._by_interest.setdefault((ticket.mode, interest), []), entry)
        if ticket.shown_country is not None:
            key = (ticket.mode, ticket.shown_country)
            bisect.insort(self._by_country.setdefault(key, []), entry)

    def _discard(self, client_id: str) -> Ticket | None:
        ticket = self._by_client.pop(client_id, None)
        if ticket is not None:
            entry = (ticket.since, ticket.client_id)
            _remove_sorted(self._queues[ticket.mode], entry)
            for interest in ticket.interests:
                key = (ticket.mode, interest)
                entries = self._by_interest[key]
                _remove_sorted(entries, entry)
                if not entries:
                    del self._by_interest[key]
            if ticket.shown_country is not None:
                key = (ticket.mode, ticket.shown_country)
                entries = self._by_country[key]
                _remove_sorted(entries, entry)
                if not entries:
                    del self._by_country[key]
        return ticket


def _remove_sorted(entries: list[tuple[float, str]], entry: tuple[float, str]) -> None:
    """Remove ``entry`` from a sorted list, found by bisection (``list.remove`` compares from
    the front: 30 µs of tuple comparisons per join with 4,000 waiting)."""
    i = bisect.bisect_left(entries, entry)
    if i == len(entries) or entries[i] != entry:
        raise ValueError(f"{entry!r} is not in the queue")
    del entries[i]
