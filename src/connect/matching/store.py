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

    async def enqueue(self, ticket: Ticket, policy: MatchPolicy) -> None:
        """Queue ``ticket`` without trying to pair it (bulk loading: benchmarks, cost tests)."""
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

    Beside each mode's queue, indexes hold the same ``(since, client)`` entries
    (the layout of the Redis store's, ``lua/rules.lua``). Each ticket is in
    one *scope*: the open one, or, for a *chooser* (a country choice that
    never widens: it accepts only people from the countries it chose), the
    scope of each country it chose; within a scope, one list of everyone and
    one per (mode, interest), (mode, language), (mode, region) and (mode,
    shown country). A newcomer walks, merged oldest first, in the open scope
    and in its shown country's chooser scope, the smallest union its own
    active criteria allow (its interests' lists; its language and none; its
    region and none; its chosen countries; else the scope's whole list).
    Every compatible ticket is in one of them, so the first that fits is the
    partner a walk of the whole queue would find, at the cost of those lists
    instead of the queue (measured in process, 4,000 waiting with distinct
    interests: 920 µs per join walking the queue, 6 µs with the interest
    index; 100,000 waiting: ``bench/match_scale.py``, docs/benchmarks.md).

    Avoid lists are a dict per subject (insertion-ordered, so the oldest
    entry is the first one) and one heap of expiry times that the sweep
    pops, so expired entries and emptied lists go away without a scan.
    Memory: at most ``avoid_cap`` entries per subject that avoided someone
    within ``avoid_s``; lists of this store live as long as the process.
    """

    def __init__(self) -> None:
        self._by_client: dict[str, Ticket] = {}
        self._queues: dict[str, list[tuple[float, str]]] = {}
        # The open and chooser indexes (see the class docstring), and where each ticket is.
        self._index: dict[tuple[str, str, str, str | None], list[tuple[float, str]]] = {}
        self._places: dict[str, tuple[tuple[str, str, str, str | None], ...]] = {}
        # One tuple per index key, shared by every ticket in that index (interned: the
        # keys of 100,000 waiting were 360 of the 661 bytes each held here).
        self._keys: dict[tuple[str, str, str, str | None], tuple[str, str, str, str | None]] = {}
        self._recent: dict[str, float] = {}
        self._parked: dict[str, Ticket] = {}
        self._criteria: dict[str, bytes] = {}
        self._avoid: dict[str, dict[str, float]] = {}
        self._avoid_expiry: list[tuple[float, str, str]] = []

    async def pair_or_wait(self, ticket: Ticket, now: float, policy: MatchPolicy) -> Ticket | None:
        partner = self._find(ticket, now, policy)
        if partner is None:
            self._insert(ticket, policy)
            return None
        self._discard(partner.client_id)
        return partner

    async def enqueue(self, ticket: Ticket, policy: MatchPolicy) -> None:
        """Queue ``ticket`` without trying to pair it (bulk loading: benchmarks, cost tests)."""
        self._insert(ticket, policy)

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
        index = self._index
        empty: list[tuple[float, str]] = []
        mode = ticket.mode
        waited = now - ticket.since
        interests = ticket.interests if waited < policy.interest_widen_s else ()
        lw = policy.language_widen_s
        language = ticket.language if lw is None or waited < lw else None
        region = ticket.region if waited < policy.region_widen_s else None
        cw = policy.country_widen_s
        countries = ticket.countries if cw is None or waited < cw else ()
        shown = ticket.shown_country
        lists: list[list[tuple[float, str]]] = []
        for scope in ("",) if shown is None else ("", shown):
            best = [index.get((scope, "a", mode, None), empty)]
            options: list[list[list[tuple[float, str]]]] = []
            if interests:
                options.append([index.get((scope, "i", mode, i), empty) for i in interests])
            if language:
                options.append(
                    [
                        index.get((scope, "l", mode, language), empty),
                        index.get((scope, "l", mode, None), empty),
                    ]
                )
            if region:
                options.append(
                    [
                        index.get((scope, "r", mode, region), empty),
                        index.get((scope, "r", mode, None), empty),
                    ]
                )
            if countries:
                options.append([index.get((scope, "c", mode, c), empty) for c in countries])
            if options:
                size = len(best[0])
                for option in options:
                    n = sum(map(len, option))
                    if n < size:
                        best, size = option, n
            lists += [ls for ls in best if ls]
        if not lists:
            return None
        candidates: Iterable[tuple[float, str]]
        candidates = lists[0] if len(lists) == 1 else heapq.merge(*lists)
        by_client = self._by_client
        for _, cid in candidates:
            candidate = by_client[cid]
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

    def _insert(self, ticket: Ticket, policy: MatchPolicy) -> None:
        cid = ticket.client_id
        self._discard(cid)
        self._by_client[cid] = ticket
        entry = (ticket.since, cid)
        mode = ticket.mode
        bisect.insort(self._queues.setdefault(mode, []), entry)
        scopes: Iterable[str] = ("",)
        if ticket.countries and policy.country_widen_s is None:
            scopes = ticket.countries
        language, region, shown = (
            ticket.language or None,
            ticket.region or None,
            ticket.shown_country,
        )
        places: list[tuple[str, str, str, str | None]] = []
        for scope in scopes:
            places += [
                (scope, "a", mode, None),
                (scope, "l", mode, language),
                (scope, "r", mode, region),
            ]
            places += [(scope, "i", mode, i) for i in ticket.interests]
            if shown is not None:
                places.append((scope, "c", mode, shown))
        index, keys = self._index, self._keys
        for key in places:
            bisect.insort(index.setdefault(key, []), entry)
        self._places[cid] = tuple(keys.setdefault(key, key) for key in places)

    def _discard(self, client_id: str) -> Ticket | None:
        ticket = self._by_client.pop(client_id, None)
        if ticket is not None:
            entry = (ticket.since, ticket.client_id)
            _remove_sorted(self._queues[ticket.mode], entry)
            index = self._index
            for key in self._places.pop(client_id, ()):
                entries = index[key]
                _remove_sorted(entries, entry)
                if not entries:
                    del index[key]
                    self._keys.pop(key, None)
        return ticket


def _remove_sorted(entries: list[tuple[float, str]], entry: tuple[float, str]) -> None:
    """Remove ``entry`` from a sorted list, found by bisection (``list.remove`` compares from
    the front: 30 µs of tuple comparisons per join with 4,000 waiting)."""
    i = bisect.bisect_left(entries, entry)
    if i == len(entries) or entries[i] != entry:
        raise ValueError(f"{entry!r} is not in the queue")
    del entries[i]
