"""The TURN/STUN probe's parts that need no coturn: URL parsing, failure classes, the loop's
schedule with an injected clock and sleep, and the series it writes. The probes themselves
run against real coturn in tests/integration/test_turn_probe.py."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aioice import stun

from connect.clock import FakeClock
from connect.observability.metrics import Metrics
from connect.turn.probe import TurnProbe, classify, parse_ice_url
from connect.turn.service import TurnService


def test_ice_urls_are_parsed_like_browsers_do() -> None:
    turn = parse_ice_url("turn:turn.example.com?transport=tcp")
    assert (turn.kind, turn.host, turn.port, turn.transport, turn.secure) == (
        "turn",
        "turn.example.com",
        3478,
        "tcp",
        False,
    )
    tls = parse_ice_url("turns:turn.example.com")
    assert (tls.port, tls.transport, tls.secure) == (5349, "tcp", True)
    stun_url = parse_ice_url("stun:[2001:db8::1]:3479")
    assert (stun_url.kind, stun_url.host, stun_url.port, stun_url.transport) == (
        "stun",
        "2001:db8::1",
        3479,
        "udp",
    )
    with pytest.raises(ValueError, match="not a STUN/TURN URL"):
        parse_ice_url("https://turn.example.com")


def _error(code: int, reason: str) -> stun.TransactionFailed:
    response = stun.Message(message_method=stun.Method.ALLOCATE, message_class=stun.Class.ERROR)
    response.attributes["ERROR-CODE"] = (code, reason)
    return stun.TransactionFailed(response)


def test_failures_are_told_apart() -> None:
    assert classify(_error(401, "Unauthorized"), 5)[0] == "auth_failed"
    assert classify(_error(438, "Stale Nonce"), 5)[0] == "auth_failed"
    assert classify(_error(486, "Allocation Quota Reached"), 5) == (
        "rejected",
        "STUN 486 Allocation Quota Reached",
    )
    assert classify(TimeoutError(), 2.5) == ("unreachable", "no answer within 2.5 s")
    assert classify(stun.TransactionTimeout(), 5)[0] == "unreachable"
    assert classify(ConnectionRefusedError(111, "refused"), 5)[0] == "unreachable"
    assert classify(socket.gaierror(-2, "Name or service not known"), 5)[0] == "unreachable"
    assert classify(ValueError("odd"), 5) == ("error", "ValueError: odd")


def _closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_loop_probes_every_interval_records_and_stops() -> None:
    """A STUN URL on a closed loopback port (the kernel answers ICMP port unreachable):
    each round records ``unreachable``, the loop waits the interval through the injected
    sleep, and stop() ends it."""
    clock = FakeClock()
    metrics = Metrics()
    url = f"stun:127.0.0.1:{_closed_udp_port()}"
    rounds = asyncio.Queue[float]()

    async def sleep(seconds: float) -> None:
        rounds.put_nowait(seconds)
        clock.advance(seconds)
        await asyncio.sleep(0)  # let stop() in

    probe = TurnProbe(
        turn=TurnService("s" * 40, [], [url], 3600, clock),
        stun_urls=[url],
        turn_urls=[],
        interval_s=30.0,
        timeout_s=2.0,
        clock=clock,
        metrics=metrics,
        sleep=sleep,
    )
    assert probe.enabled
    start = clock.now()
    probe.start()
    async with asyncio.timeout(10):
        assert await rounds.get() == 30.0
        assert await rounds.get() == 30.0
    await probe.stop()
    (result,) = probe.results()
    assert (result.url, result.up, result.reason) == (url, False, "unreachable")
    # Stamped with the injected clock: the second round (or a third that beat stop()).
    assert result.status().checked_at.timestamp() in (start + 30, start + 60)
    assert metrics.turn_up.labels(url)._value.get() == 0
    failures = metrics.turn_probe_failures.labels(url, "unreachable")._value.get()
    assert failures >= 2


async def test_disabled_probe_starts_nothing() -> None:
    clock = FakeClock()
    probe = TurnProbe(
        turn=TurnService("s" * 40, [], [], 3600, clock),
        stun_urls=["stun:127.0.0.1:3478"],
        turn_urls=[],
        interval_s=0,
        timeout_s=1,
        clock=clock,
        metrics=Metrics(),
    )
    assert not probe.enabled
    probe.start()
    await probe.stop()
    assert probe.results() == []
