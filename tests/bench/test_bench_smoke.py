"""The bench harness works: every scenario, tiny and short, against Connect only.

No timed assertions: this checks that the harness produces sane numbers (all
pairs matched, messages received, no errors), not how fast anything is. The load
client is Node (bench/reference/client.mjs): under CI=true a missing Node is an
error, locally the module skips and says what to install.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.cpu_split import GROUPS, split
from bench.load import (
    BenchError,
    RunningServer,
    ensure_node_deps,
    node_available,
    run_scenario,
    server,
)
from bench.run import PROFILES, flatten, soak_figures

SMOKE = PROFILES["smoke"]


@pytest.fixture(scope="module")
def connect_server() -> Iterator[RunningServer]:
    reason = node_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"bench smoke test: {reason}")
        pytest.skip(reason)
    ensure_node_deps()
    with server("connect") as srv:
        yield srv


async def run(srv: RunningServer, scenario: str) -> dict[str, Any]:
    return flatten(await run_scenario(srv, scenario, SMOKE[scenario]))


def finite(*values: Any) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


async def test_connect_holds_every_connection(connect_server: RunningServer) -> None:
    r = await run(connect_server, "connect")
    assert r["connected"] == SMOKE["connect"]["n"]
    assert r["failures"] == 0
    assert r["errors"] == 0, r["errorCodes"]
    assert r["rssAfterKb"] > 0
    assert finite(r["rssPerConnKb"], r["connectAllMs"], r["connectsPerS"])


async def test_burst_matches_every_visitor(connect_server: RunningServer) -> None:
    r = await run(connect_server, "burst")
    assert r["matched"] == r["visitors"] == SMOKE["burst"]["n"]
    assert not r["timedOut"]
    assert r["errors"] == 0, r["errorCodes"]
    assert r["pairsPerS"] > 0
    assert finite(r["matchLatencyP50Ms"], r["matchLatencyP99Ms"])


async def test_relay_rate_delivers_every_message(connect_server: RunningServer) -> None:
    r = await run(connect_server, "relay-rate")
    assert r["sent"] > 0
    assert r["received"] == r["sent"]
    assert r["bad"] == 0
    assert r["errors"] == 0, r["errorCodes"]
    assert 0 < r["p50"] <= r["p99"] <= r["p999"] <= r["max"]


async def test_relay_rate_opens_each_side_where_it_is_told(connect_server: RunningServer) -> None:
    """The ``nodes`` option of client.mjs (bench/cluster.py puts a pair's two visitors on
    two nodes with it), here with both entries the one server, and a non-loopback one
    refused before anything is opened."""
    side = {"url": connect_server.ws_url, "http": connect_server.http_url}
    r = flatten(
        await run_scenario(
            connect_server, "relay-rate", {**SMOKE["relay-rate"], "nodes": [side, side]}
        )
    )
    assert r["sent"] > 0
    assert r["received"] == r["sent"]
    assert r["errors"] == 0, r["errorCodes"]
    outside = {"url": "ws://10.0.0.1:80/ws", "http": "http://10.0.0.1:80"}
    with pytest.raises(BenchError, match="loopback URLs only"):
        await run_scenario(
            connect_server, "relay-rate", {**SMOKE["relay-rate"], "nodes": [side, outside]}
        )


@pytest.mark.parametrize(
    "scenario", ["pingpong", "pingpong-typing", "pingpong-long", "pingpong-signal"]
)
async def test_pingpong_relays_and_measures_cpu(
    connect_server: RunningServer, scenario: str
) -> None:
    r = await run(connect_server, scenario)
    assert r["messages"] > 0
    assert r["errors"] == 0, r["errorCodes"]
    assert r["serverCpuUsPerMsg"] > 0
    assert finite(r["msgsPerS"], r["msgsPerCpuS"], r["clientCpuUtil"])


async def test_churn_runs_without_errors(connect_server: RunningServer) -> None:
    r = await run(connect_server, "churn")
    assert r["opens"] >= SMOKE["churn"]["n"]
    assert r["matches"] > 0
    assert r["realErrors"] == 0, r["errorCodes"]
    assert r["unexpectedCloses"] == 0
    assert r["openFailures"] == 0
    assert r["stillOpen"] == 0
    assert len(r["rssSamples"]) >= 2


def test_soak_figures_compare_the_start_of_steady_state_with_the_end() -> None:
    """Growth is median(after warm-up, 30 s) against median(last 30 s); races are not errors."""
    samples = [[t, 100_000 + (20_000 if t >= 60 else t * 300) + t * 10] for t in range(0, 301)]
    run = {
        "rssSamples": samples,
        "durationS": 300,
        "rssBeforeKb": 90_000,
        "matchesPerS": 12.5,
        "errors": 3,
        "errorCodes": {"already_queued": 2, "not_in_session": 1},
        "serverCpuS": 42.0,
    }
    f = soak_figures(run, warmup_s=60)
    start, end = 120_000 + 745, 120_000 + 2_850  # medians: t = 74.5 (60-89 s), t = 285 (270-300 s)
    assert f["rssAfterWarmupKb"] == start
    assert f["rssEndKb"] == end
    assert f["growthPct"] == round(100 * (end - start) / start, 2)
    assert (f["errors"], f["races"]) == (0, 3)


def test_cpu_split_attributes_samples_to_the_runtime_and_the_kernel(tmp_path: Path) -> None:
    """A real ``perf record`` of a CPU-bound interpreter and of a syscall loop, split by object."""
    if shutil.which("perf") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("bench.cpu_split needs perf (apt-get install -y linux-perf)")
        pytest.skip("perf is not installed (apt-get install -y linux-perf)")
    loops = {
        "runtime": "x = 0\nfor i in range(3_000_000): x += i * i",
        # Zero-filling 64 KiB reads: the copy to user space is kernel time on any kernel
        # (a stat loop spent most of its samples in the interpreter on some machines).
        "kernel": (
            "import os\nf = os.open('/dev/zero', os.O_RDONLY)\n"
            "for _ in range(60_000): os.read(f, 1 << 16)"
        ),
    }
    for expected, program in loops.items():
        data = tmp_path / f"{expected}.data"
        subprocess.run(
            ["perf", "record", "-F", "999", "-o", str(data), sys.executable, "-c", program],
            check=True,
            capture_output=True,
            timeout=120,
        )
        shares, top = split(data)
        assert set(shares) == set(GROUPS)
        assert 0.99 <= sum(shares.values()) <= 1.01
        assert max(shares, key=lambda g: shares[g]) == expected, shares
        assert top
        assert top[0][1] >= top[-1][1]
