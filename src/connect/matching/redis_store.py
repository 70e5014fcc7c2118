"""The matching queue in Redis: one atomic Lua script per attempt.

Layout (prefix ``connect:``): ``q:<mode>`` is a sorted set of waiting client
ids scored by the time they started waiting; ``t:<client>`` holds the ticket
as JSON; ``recent:<deviceA>|<deviceB>`` holds until when a pair may not be
rematched (compared with the caller's clock, so the rule is testable; the
key's TTL only collects garbage); ``avoid:<subject>`` is a sorted set of the
subjects that subject avoids, scored by until when (at most the policy's
``avoid_cap`` members, the lowest scores, i.e. the oldest, dropped first; the
key expires with its last entry).

``pair_or_wait`` runs as one script: it walks the candidates oldest first,
applies the compatibility rules of :mod:`connect.matching.rules` (ported to
Lua in ``lua/rules.lua`` — the unit tests run the same cases against this
store and the memory one), and either removes the partner or adds the
newcomer. Redis runs scripts one at a time, so two nodes can never hand the
same waiting visitor to two people.

The candidates come from indexes kept by the same scripts, sorted sets with
the queue's scores (``lua/rules.lua`` lists them): the open waiting by
interest, language, region and shown country, and the choosers (whose country
choice never widens) by chosen country. A newcomer walks the smallest union
its own active criteria allow plus the choosers of its shown country; every
compatible waiting visitor is in one of those, so the partner is the one a
walk of the whole queue would find, and a join costs the length of that walk
instead of the queue's (``bench/match_scale.py``: 100,000 waiting). The walk
is still bounded (``SCAN_LIMIT`` candidates tried) so a huge set of mutually
incompatible candidates of the same criteria (the same device or IP, recent
pairs, avoid lists, others' unwidened interests) cannot stall Redis; such a
newcomer waits and is found by later joins or the sweep. The avoid lists add
two ``ZSCORE`` look-ups (O(1)) per candidate that the other rules allow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as redis

from connect.matching.rules import MatchPolicy, Ticket, pair_key
from connect.storage.redis import PREFIX

SCAN_LIMIT = 500
SWEEP_LIMIT = 200

LUA = Path(__file__).with_name("lua")
_RULES = (LUA / "rules.lua").read_text()
PAIR_OR_WAIT = _RULES + (LUA / "pair_or_wait.lua").read_text()
SWEEP = _RULES + (LUA / "sweep.lua").read_text()
REMOVE = _RULES + (LUA / "remove.lua").read_text()
AVOID = (LUA / "avoid.lua").read_text()
COUNTS = (LUA / "counts.lua").read_text()
ENQUEUE = _RULES + (LUA / "enqueue.lua").read_text()
#: Kept a minute past the last entry's expiry, like the recent-pair keys.
AVOID_TTL_MARGIN_MS = 60_000


def _encode(t: Ticket) -> bytes:
    return orjson.dumps(
        {
            "client_id": t.client_id,
            "device_id": t.device_id,
            "ip_hash": t.ip_hash,
            "mode": t.mode,
            "language": t.language,
            "region": t.region,
            "interests": sorted(t.interests),
            "since": t.since,
            "country": t.country,
            "countries": sorted(t.countries),
            "hide_country": t.hide_country,
        }
    )


def _decode(raw: bytes | str) -> Ticket:
    d: dict[str, Any] = orjson.loads(raw)
    return Ticket(
        client_id=d["client_id"],
        device_id=d["device_id"],
        ip_hash=d["ip_hash"],
        mode=d["mode"],
        language=d["language"],
        region=d["region"],
        interests=frozenset(d["interests"]),
        since=float(d["since"]),
        country=d.get("country"),
        countries=frozenset(d.get("countries") or ()),
        hide_country=bool(d.get("hide_country", False)),
    )


def _country_arg(policy: MatchPolicy) -> str:
    return repr(-1.0 if policy.country_widen_s is None else policy.country_widen_s)


def _policy_args(policy: MatchPolicy) -> list[str]:
    lw = -1.0 if policy.language_widen_s is None else policy.language_widen_s
    return [
        "1" if policy.allow_same_ip else "0",
        repr(policy.interest_widen_s),
        repr(policy.region_widen_s),
        repr(lw),
    ]


class RedisMatchStore:
    MODES = ("video", "text")

    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._pair = client.register_script(PAIR_OR_WAIT)
        self._sweep = client.register_script(SWEEP)
        self._remove = client.register_script(REMOVE)
        self._avoid = client.register_script(AVOID)
        self._counts = client.register_script(COUNTS)
        self._enqueue = client.register_script(ENQUEUE)

    async def pair_or_wait(self, ticket: Ticket, now: float, policy: MatchPolicy) -> Ticket | None:
        raw = await self._pair(
            keys=[f"{PREFIX}q:{ticket.mode}"],
            args=[
                _encode(ticket),
                repr(now),
                *_policy_args(policy),
                PREFIX,
                SCAN_LIMIT,
                _country_arg(policy),
            ],
        )
        return _decode(raw) if raw else None

    async def enqueue(self, ticket: Ticket, policy: MatchPolicy, client: Any | None = None) -> None:
        """Queue ``ticket`` without trying to pair it (bulk loading: benchmarks, cost tests).

        ``client`` may be a pipeline of this store's Redis, to load many in one round trip.
        """
        await self._enqueue(
            keys=[f"{PREFIX}q:{ticket.mode}"],
            args=[_encode(ticket), PREFIX, _country_arg(policy)],
            client=client,
        )

    async def remove(self, client_id: str) -> Ticket | None:
        raw = await self._remove(keys=[f"{PREFIX}t:{client_id}"], args=[PREFIX])
        return _decode(raw) if raw else None

    async def get(self, client_id: str) -> Ticket | None:
        raw = await self._r.get(f"{PREFIX}t:{client_id}")
        return _decode(raw) if raw else None

    async def sweep(self, now: float, policy: MatchPolicy) -> list[tuple[Ticket, Ticket]]:
        pairs: list[tuple[Ticket, Ticket]] = []
        args = _policy_args(policy)
        for mode in self.MODES:
            out = await self._sweep(
                keys=[f"{PREFIX}q:{mode}"],
                args=[repr(now), *args, PREFIX, SWEEP_LIMIT, _country_arg(policy)],
            )
            for i in range(0, len(out), 2):
                pairs.append((_decode(out[i]), _decode(out[i + 1])))
        return pairs

    async def waiting(self) -> dict[str, int]:
        return {mode: int(await self._r.zcard(f"{PREFIX}q:{mode}")) for mode in self.MODES}

    async def waiting_ids(self, client_ids: list[str]) -> set[str]:
        if not client_ids:
            return set()
        found = await self._r.mget([f"{PREFIX}t:{cid}" for cid in client_ids])
        return {cid for cid, raw in zip(client_ids, found, strict=True) if raw}

    async def counts(self, dead_after_s: float) -> tuple[int, dict[str, int]]:
        """Sockets online on every live node and visitors waiting per mode, in one script."""
        online, video, text = await self._counts(
            keys=[f"{PREFIX}nodes", f"{PREFIX}q:video", f"{PREFIX}q:text"],
            args=[PREFIX, repr(dead_after_s)],
        )
        return int(online), {"video": int(video), "text": int(text)}

    async def remember_pair(self, device_a: str, device_b: str, until: float, now: float) -> None:
        ttl_ms = max(1, int((until - now) * 1000)) + 60_000
        await self._r.set(f"{PREFIX}recent:{pair_key(device_a, device_b)}", repr(until), px=ttl_ms)

    async def avoid(self, subject: str, other: str, until: float, now: float, cap: int) -> None:
        if subject == other or cap <= 0:
            return
        ttl_ms = max(1, int((until - now) * 1000)) + AVOID_TTL_MARGIN_MS
        await self._avoid(
            keys=[f"{PREFIX}avoid:{subject}"], args=[other, repr(until), repr(now), cap, ttl_ms]
        )

    async def avoided(self, subject: str, now: float) -> list[str]:
        raw = await self._r.zrangebyscore(f"{PREFIX}avoid:{subject}", f"({now!r}", "+inf")
        return [m.decode() if isinstance(m, bytes) else str(m) for m in raw]

    async def park(self, client_id: str, ticket: Ticket, ttl_s: float) -> None:
        await self._r.set(
            f"{PREFIX}park:{client_id}", _encode(ticket), px=max(1, int(ttl_s * 1000))
        )

    async def unpark(self, client_id: str) -> Ticket | None:
        raw = await self._r.getdel(f"{PREFIX}park:{client_id}")
        return _decode(raw) if raw else None

    async def set_criteria(self, client_id: str, criteria: bytes, ttl_s: float) -> None:
        await self._r.set(f"{PREFIX}crit:{client_id}", criteria, px=int(ttl_s * 1000))

    async def get_criteria(self, client_id: str) -> bytes | None:
        raw = await self._r.get(f"{PREFIX}crit:{client_id}")
        return raw.encode() if isinstance(raw, str) else raw

    async def forget_criteria(self, client_id: str) -> None:
        await self._r.delete(f"{PREFIX}crit:{client_id}")
