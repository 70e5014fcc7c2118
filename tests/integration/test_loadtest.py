"""``connect loadtest`` against a real local node: the real command in a subprocess, a real
server of its own (so its visitors never meet another test's), real sockets.

A short run meets its SLOs, prints progress lines and writes both reports; an SLO nobody
can meet makes it exit 1 with the same reports; a target that is not loopback is refused
before any traffic, a host name counting as remote when any of its addresses is.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from connect.loadtest.target import TargetRefused, check_target
from tests.support.server import Server, start_server

RUN_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(Path(tmp_path_factory.mktemp("loadtest-node")))
    yield srv
    srv.stop()


def loadtest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connect", "loadtest", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


SHORT = [
    "--users",
    "12",
    "--ramp-up",
    "2",
    "--duration",
    "6",
    "--session-min",
    "1",
    "--session-max",
    "2",
    "--progress",
    "1",
]


def test_a_short_run_meets_its_slos_and_writes_both_reports(node: Server, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = loadtest("--url", node.http, "--report", str(out), "--processes", "2", *SHORT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    progress = [line for line in proc.stdout.splitlines() if line.startswith("[")]
    assert len(progress) >= 4, proc.stdout  # a line a second over an 8-second run
    assert "PASSED" in proc.stdout
    report = json.loads((out.with_suffix(".json")).read_text())
    assert report["passed"] is True
    assert report["target"]["loopback"] is True
    assert {s["name"] for s in report["slo"]} == {"match p95", "signaling p95", "error rate"}
    assert all(s["met"] for s in report["slo"])
    counts = report["counts"]
    # The whole mix happened: matches, offer/answer, candidates, chat, next, disconnects.
    assert counts["matches"] >= 12
    assert counts["offers"] > 0
    assert counts["answers"] > 0
    assert counts["candidates_received"] > 0
    assert counts["chat_sent"] > 0
    assert counts["sessions_ended_by_peer"] > 0
    assert report["latencyMs"]["signaling"]["count"] > 0
    assert report["errors"] == {}, report["errors"]
    assert report["config"]["processes"] == 2
    assert len(report["timeline"]) == len(progress)
    markdown = out.with_suffix(".md").read_text()
    assert markdown.startswith(f"# Connect load test {report['runId']}")
    assert "**PASSED**" in markdown
    assert "| match p95 | 5000 ms |" in markdown


def test_an_slo_nobody_can_meet_exits_non_zero(node: Server, tmp_path: Path) -> None:
    out = tmp_path / "strict"
    proc = loadtest("--url", node.http, "--report", str(out), "--slo-match-p95-ms", "0", *SHORT)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MISSED match p95" in proc.stdout
    assert "FAILED" in proc.stdout
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["passed"] is False
    met = {s["name"]: s["met"] for s in report["slo"]}
    assert met == {"match p95": False, "signaling p95": True, "error rate": True}
    assert "**missed**" in out.with_suffix(".md").read_text()


@pytest.mark.parametrize(
    "url", ["http://192.0.2.10:8000", "https://203.0.113.7", "http://[2001:db8::1]:8000"]
)
def test_a_target_that_is_not_loopback_is_refused(url: str, tmp_path: Path) -> None:
    out = tmp_path / "refused"
    proc = loadtest("--url", url, "--report", str(out), "--users", "2", "--duration", "1")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--allow-remote" in proc.stderr
    assert "not only loopback" in proc.stderr
    assert proc.stdout == ""  # refused before anything started
    assert not out.with_suffix(".json").exists()


def test_a_name_counts_as_remote_when_any_address_is() -> None:
    def mixed(host: str, port: int) -> list[str]:
        return {"both.test": ["127.0.0.1", "198.51.100.4"], "local.test": ["127.0.0.1", "::1"]}[
            host
        ]

    with pytest.raises(TargetRefused, match=r"198\.51\.100\.4"):
        check_target("http://both.test:8000", allow_remote=False, resolver=mixed)
    local = check_target("https://local.test/base/", allow_remote=False, resolver=mixed)
    assert (local.http, local.ws, local.loopback) == (
        "https://local.test/base",
        "wss://local.test/base/ws",
        True,
    )
    remote = check_target("http://both.test:8000", allow_remote=True, resolver=mixed)
    assert remote.loopback is False
    # The real resolver: localhost is loopback; a scheme other than http(s) never passes.
    assert check_target("http://localhost:1", allow_remote=False).loopback is True
    with pytest.raises(TargetRefused, match="http:// or https://"):
        check_target("file:///etc/passwd", allow_remote=True)


def test_config_is_bounded() -> None:
    from connect.loadtest.options import MAX_USERS

    for bad in (["--users", str(MAX_USERS + 1)], ["--processes", "0"], ["--slo-error-rate", "2"]):
        proc = loadtest("--url", "http://127.0.0.1:1", *bad)
        assert proc.returncode == 2, (bad, proc.stderr)


def test_figures_merge_across_processes_and_stay_bounded() -> None:
    """What crosses process boundaries: counter deltas, new samples, gauges; the merged
    percentiles are those of all samples; a series keeps at most MAX_SAMPLES values."""
    from connect.loadtest import stats

    assert stats.percentile([], 95) is None
    assert stats.percentile([float(v) for v in range(1, 101)], 95) == 95.0
    assert stats.percentile([3.0, 1.0, 2.0], 50) == 2.0
    workers = [stats.Tally(), stats.Tally()]
    whole = stats.Tally()
    lasts = [w.snapshot() for w in workers]
    for i, worker in enumerate(workers):
        for v in range(50):
            worker.sample("match_ms", float(2 * v + i))
        worker.request(True)
        worker.request(False, "rate_limited")
        worker.gauge("connected", 3)
    for i, worker in enumerate(workers):
        whole.merge(worker.take_delta(lasts[i]))
        lasts[i] = worker.snapshot()
        # A second delta with nothing new adds nothing.
        whole.merge(worker.take_delta(lasts[i]))
    assert whole.counters["requests"] == 4
    assert whole.errors == {"rate_limited": 2}
    assert whole.error_rate == 0.5
    assert whole.latency("match_ms") == {
        "count": 100,
        "p50": 49.0,
        "p95": 94.0,
        "p99": 98.0,
        "max": 99.0,
    }
    big = stats.Reservoir()
    rng = random.Random(7)
    for v in range(stats.MAX_SAMPLES + 5000):
        big.add(float(v), rng)
    assert len(big.values) == stats.MAX_SAMPLES
    assert big.seen == stats.MAX_SAMPLES + 5000
