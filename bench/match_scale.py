"""Matching with a large queue: join cost with N visitors waiting, memory and Redis stores.

Generates ``--waiting`` visitors (seeded, spread over modes, languages,
regions, countries, country choices and interests; the visitors who chose
countries waited longest, as the picky do) and loads them straight into the
store (``enqueue``: the layout a join that found nobody leaves). Then
``--joins`` newcomers drawn from the same population join one after another
(``pair_or_wait``, the one call a ``join-queue`` makes to the store); each
partner taken is replaced by a fresh waiting visitor so the queue stays at
its size. Reported: the join's latency at the store (p50, p99, max, for all
joins and for those that matched), the share matched, pairs per second of
wall time and, for Redis, per second of ``redis-server`` CPU (utime + stime
from ``/proc``: what one Redis core would carry). Over a real socket a join
adds the gateway's own work, ``bench/match_latency.py`` (about 1.5 ms).

Bounded: ``--waiting`` at most 200,000, ``--joins`` at most 20,000, and the
join phase stops after ``--max-seconds``. Redis is a real ``redis-server`` on
loopback started here (``tests/support/services.py``).

    .venv/bin/python -m bench.match_scale --waiting 100000 --joins 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tests.support.services import redis_server

from connect.matching.redis_store import RedisMatchStore
from connect.matching.rules import MatchPolicy, Ticket
from connect.matching.store import MatchStore, MemoryMatchStore
from connect.storage.redis import connect as connect_redis

POLICY = MatchPolicy()
LANGUAGES = [f"l{i:02d}" for i in range(24)]
REGIONS = ["eu", "na", "sa", "as", "af", "oc"]
COUNTRIES = [f"C{i:02d}" for i in range(80)]
INTERESTS = [f"i{i:03d}" for i in range(400)]


def _zipf(rng: random.Random, items: list[str], s: float = 1.1) -> str:
    weights = [1 / (k + 1) ** s for k in range(len(items))]
    return rng.choices(items, weights)[0]


@dataclass
class Population:
    """Draws visitors; ``n`` numbers them (client, device and IP hash are unique)."""

    rng: random.Random
    n: int = 0

    def draw(self, now: float, *, waiting: bool) -> Ticket:
        rng = self.rng
        self.n += 1
        n = self.n
        chooses = rng.random() < 0.12
        country = None if rng.random() < 0.04 else _zipf(rng, COUNTRIES)
        interests: frozenset[str] = frozenset()
        if rng.random() < 0.4:
            interests = frozenset(_zipf(rng, INTERESTS, 0.9) for _ in range(rng.randint(1, 3)))
        countries: frozenset[str] = frozenset()
        if chooses:
            countries = frozenset(_zipf(rng, COUNTRIES) for _ in range(rng.randint(1, 2)))
        if waiting:
            # The picky waited longest: choosers fill the head of the queue.
            since = now - (rng.uniform(300, 900) if chooses else rng.uniform(0, 300))
        else:
            since = now
        return Ticket(
            client_id=f"c{n}",
            device_id=f"guest:d{n}",
            ip_hash=f"ip{n}",
            mode="video" if rng.random() < 0.8 else "text",
            language=None if rng.random() < 0.15 else _zipf(rng, LANGUAGES),
            region=rng.choice(REGIONS) if rng.random() < 0.5 else None,
            interests=interests,
            since=since,
            country=country,
            countries=countries,
            hide_country=rng.random() < 0.1,
        )


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * (len(sorted_values) - 1) + 0.5))]


async def _load(store: MatchStore, batch: list[Ticket], policy: MatchPolicy) -> None:
    """Bulk ``enqueue``: for Redis the same script, pipelined (one round trip per batch)."""
    if isinstance(store, RedisMatchStore):
        pipe = store._r.pipeline(transaction=False)
        for t in batch:
            await store.enqueue(t, policy, client=pipe)
        await pipe.execute()
    else:
        for t in batch:
            await store.enqueue(t, policy)


async def _redis_memory(store: MatchStore) -> int | None:
    """Redis' ``used_memory`` (bytes), for the queue's size in Redis."""
    if not isinstance(store, RedisMatchStore):
        return None
    return int((await store._r.info("memory"))["used_memory"])


async def _script_us(store: MatchStore) -> float | None:
    """Redis' own time per script call so far (INFO commandstats, evalsha), in µs."""
    if not isinstance(store, RedisMatchStore):
        return None
    stats = await store._r.info("commandstats")
    row = stats.get("cmdstat_evalsha")
    return float(row["usec_per_call"]) if row else None


async def measure(
    store: MatchStore,
    *,
    waiting: int,
    joins: int,
    seed: int,
    max_seconds: float,
    server_pid: int | None = None,
    policy: MatchPolicy = POLICY,
) -> dict[str, Any]:
    pop = Population(random.Random(seed))
    now = 1_000_000.0
    mem_before = await _redis_memory(store)
    load_start = time.perf_counter()
    batch: list[Ticket] = []
    for i in range(waiting):
        batch.append(pop.draw(now, waiting=True))
        if len(batch) == 1000 or i == waiting - 1:
            await _load(store, batch, policy)
            batch.clear()
    load_s = time.perf_counter() - load_start
    mem_after = await _redis_memory(store)
    times: list[float] = []
    matched_times: list[float] = []
    if isinstance(store, RedisMatchStore):
        await store._r.config_resetstat()
    cpu_before = _cpu_s(server_pid) if server_pid else 0.0
    deadline = time.perf_counter() + max_seconds
    start = time.perf_counter()
    for j in range(joins):
        if time.perf_counter() > deadline:
            break
        now += 0.001
        me = pop.draw(now, waiting=False)
        t0 = time.perf_counter()
        partner = await store.pair_or_wait(me, now, policy)
        dt = time.perf_counter() - t0
        times.append(dt)
        if partner is not None:
            matched_times.append(dt)
            # Keep the queue at its size: someone else starts waiting.
            await store.enqueue(replace(pop.draw(now, waiting=True), since=now - 1), policy)
        if j % 50 == 0:
            await asyncio.sleep(0)
    wall = time.perf_counter() - start
    cpu = (_cpu_s(server_pid) - cpu_before) if server_pid else None
    script_us = await _script_us(store)
    times.sort()
    matched_times.sort()
    ms = 1000.0
    return {
        "waiting": waiting,
        "joins": len(times),
        "load_s": round(load_s, 1),
        "redis_bytes_per_waiting": (
            round((mem_after - mem_before) / waiting)
            if mem_after and mem_before and waiting
            else None
        ),
        "matched_share": round(len(matched_times) / max(1, len(times)), 3),
        "p50_ms": round(_pct(times, 0.5) * ms, 3),
        "p99_ms": round(_pct(times, 0.99) * ms, 3),
        "max_ms": round(times[-1] * ms, 3) if times else None,
        "matched_p99_ms": round(_pct(matched_times, 0.99) * ms, 3),
        "mean_ms": round(statistics.fmean(times) * ms, 3) if times else None,
        "pairs_per_s_wall": round(len(matched_times) / wall, 1) if wall else None,
        "script_us_per_call": round(script_us, 1) if script_us is not None else None,
        "server_cpu_s": round(cpu, 3) if cpu is not None else None,
        "pairs_per_server_core_s": round(len(matched_times) / cpu, 1) if cpu else None,
    }


async def run_memory(waiting: int, joins: int, seed: int, max_seconds: float) -> dict[str, Any]:
    return await measure(
        MemoryMatchStore(), waiting=waiting, joins=joins, seed=seed, max_seconds=max_seconds
    )


async def run_redis(
    url: str, waiting: int, joins: int, seed: int, max_seconds: float
) -> dict[str, Any]:
    client = connect_redis(url)
    await client.flushdb()
    pid = int((await client.info("server"))["process_id"])
    try:
        return await measure(
            RedisMatchStore(client),
            waiting=waiting,
            joins=joins,
            seed=seed,
            max_seconds=max_seconds,
            server_pid=pid,
        )
    finally:
        await client.flushdb()
        await client.aclose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--joins", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--store", choices=["memory", "redis", "both"], default="both")
    args = parser.parse_args(argv)
    waiting = min(max(args.waiting, 0), 200_000)
    joins = min(max(args.joins, 1), 20_000)
    out: dict[str, Any] = {}
    if args.store in ("memory", "both"):
        out["memory"] = asyncio.run(run_memory(waiting, joins, args.seed, args.max_seconds))
        print("memory", out["memory"], flush=True)
    if args.store in ("redis", "both"):
        with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
            out["redis"] = asyncio.run(run_redis(url, waiting, joins, args.seed, args.max_seconds))
            print("redis", out["redis"], flush=True)
    return out


if __name__ == "__main__":
    main()
