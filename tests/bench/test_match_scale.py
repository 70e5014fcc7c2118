"""The matching-at-scale bench works: a small queue, both stores, no timings asserted.

It checks that the generator and the measurement produce sane figures, and that
both stores agree on who pairs: the same seeded population and newcomers give
the same share matched (the memory store walks without a bound, the Redis one
tries at most SCAN_LIMIT candidates; at this size neither bound is reached).
"""

from __future__ import annotations

import math
from pathlib import Path

from bench.match_scale import run_memory, run_redis

from tests.support.services import redis_server


async def test_both_stores_pair_the_same_share_of_newcomers(tmp_path: Path) -> None:
    memory = await run_memory(3000, 300, seed=7, max_seconds=60)
    with redis_server(tmp_path / "redis") as url:
        redis = await run_redis(url, 3000, 300, seed=7, max_seconds=60)
    for r in (memory, redis):
        assert r["joins"] == 300
        assert 0.5 < r["matched_share"] <= 1.0
        assert all(math.isfinite(r[k]) for k in ("p50_ms", "p99_ms", "matched_p99_ms"))
    assert memory["matched_share"] == redis["matched_share"]
    assert redis["server_cpu_s"] is not None
    assert redis["script_us_per_call"] > 0
