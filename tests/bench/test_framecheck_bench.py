"""The frame-moderation benchmark works (bench/framecheck.py): tiny runs, no timings asserted.

Checks the numbers are there and sane (every frame accepted, every run got its
video-hidden and its report), not how fast anything is.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.framecheck import SERVER_SETTINGS, end_to_end, receive_cost, throughput

from connect.framecheck.classifier import installed
from tests.support.server import Server, start_server


@pytest.fixture(scope="module")
def bench_server() -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="connect-framecheck-smoke-") as tmp:
        srv = start_server(Path(tmp), SERVER_SETTINGS)
        yield srv
        srv.stop()


def finite(*values: object) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in values)


def test_throughput_of_the_test_classifier() -> None:
    r = throughput("test-colour", 8)
    assert r["frames"] == 8
    assert finite(r["framesPerCoreS"], r["msPerFrame"], r["wallFramesPerS"])


@pytest.mark.skipif(not installed("nudenet"), reason="the moderation-ai extra is not installed")
def test_throughput_of_nudenet() -> None:
    r = throughput("nudenet", 3)
    assert r["classifier"] == "nudenet"
    assert finite(r["framesPerCoreS"], r["msPerFrame"])


async def test_end_to_end_latency(bench_server: Server) -> None:
    r = await end_to_end(bench_server, 2)
    assert r["runs"] == 2
    assert finite(r["hiddenP50Ms"], r["hiddenP99Ms"], r["reportP50Ms"], r["reportP99Ms"])
    assert r["hiddenP50Ms"] <= r["hiddenP99Ms"]


async def test_receive_cost(bench_server: Server) -> None:
    r = await receive_cost(bench_server, visitors=4, count=20, session_s=60)
    assert r["accepted"] == r["frames"] == 20
    assert finite(r["cpuMsPerFrame"], r["serverCoresPer1000Visitors"])
    assert r["framesPerSPer1000Visitors"] == pytest.approx(1000 / 30 + 1000 / 60, rel=0.01)
