"""Connect's own TURN/STUN probe (connect.turn.probe) against a real coturn.

coturn runs loopback-only on a free port with ``use-auth-secret``, as in the e2e suite
(tests/e2e/conftest.py), here outside a network namespace: the probe gathers no ICE
candidates, it only speaks STUN/TURN to 127.0.0.1. Each case reads what an operator
reads: ``/health/detailed``, ``/metrics`` and coturn's own log.

- up: the STUN binding and the TURN allocation (with Connect's REST credentials) succeed,
  ``connect_turn_up`` is 1 with a latency, and coturn logged the probe's allocation;
- coturn stopped: both URLs go to 0 within one interval plus the timeout, reason
  ``unreachable``;
- wrong shared secret: the TURN URL is 0 with reason ``auth_failed`` (not unreachable)
  while the STUN binding, which needs no credentials, stays up;
- a TURN server that never answers delays neither start-up nor shutdown.
"""

from __future__ import annotations

import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.http import loopback_client, loopback_get
from tests.support.server import Server, free_port, start_server

TURNSERVER = "/usr/bin/turnserver"
INTERVAL_S = 1.0
TIMEOUT_S = 1.0
WAIT_S = 20.0


def _missing(what: str) -> None:
    import os

    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {what}", pytrace=False)
    pytest.skip(what)


@dataclass
class Coturn:
    """A throw-away coturn on 127.0.0.1:port (UDP and TCP), stopped by its PID."""

    work: Path
    port: int = field(default_factory=free_port)
    secret: str = field(default_factory=lambda: secrets.token_hex(24))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.work / "turn.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        min_port = 49152 + secrets.randbelow(10000)
        conf = self.work / "turnserver.conf"
        conf.write_text(
            "\n".join(
                [
                    "listening-ip=127.0.0.1",
                    "relay-ip=127.0.0.1",
                    f"listening-port={self.port}",
                    f"min-port={min_port}",
                    f"max-port={min_port + 100}",
                    "use-auth-secret",
                    f"static-auth-secret={self.secret}",
                    "realm=connect.test",
                    "no-tls",
                    "no-dtls",
                    "no-cli",
                    "no-multicast-peers",
                    "userdb=:memory:",
                    f"log-file={self.log_path}",
                    "simple-log",
                    "verbose",
                    f"pidfile={self.work / 'turn.pid'}",
                ]
            )
            + "\n"
        )
        self.proc = subprocess.Popen(
            [TURNSERVER, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        while "Total General servers" not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"coturn did not start:\n{self.log()}")
            time.sleep(0.05)  # polling coturn's log file, bounded by the deadline

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    if not Path(TURNSERVER).exists() or shutil.which("turnserver") is None:
        _missing("coturn is not installed (apt-get install -y coturn)")
    turn = Coturn(tmp_path / "coturn")
    turn.work.mkdir()
    turn.start()
    yield turn
    turn.stop()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[[Mapping[str, str]], Server]]:
    started: list[Server] = []

    def make(overrides: Mapping[str, str]) -> Server:
        srv = start_server(tmp_path / f"server{len(started)}", overrides)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


def urls(port: int) -> tuple[str, str]:
    return f"stun:127.0.0.1:{port}", f"turn:127.0.0.1:{port}?transport=udp"


def probe_settings(port: int, secret: str, **extra: str) -> dict[str, str]:
    stun, turn = urls(port)
    return {
        "CONNECT_STUN_URLS": stun,
        "CONNECT_TURN_URLS": turn,
        "CONNECT_TURN_SECRET": secret,
        "CONNECT_TURN_PROBE_INTERVAL_S": str(INTERVAL_S),
        "CONNECT_TURN_PROBE_TIMEOUT_S": str(TIMEOUT_S),
        **extra,
    }


def servers_by_url(srv: Server) -> dict[str, dict[str, Any]]:
    detail = loopback_get(f"{srv.http}/health/detailed", timeout=5).json()
    return {s["url"]: s for s in detail["turn"]["servers"]}


def wait_status(
    srv: Server, until: Callable[[dict[str, dict[str, Any]]], bool], timeout: float = WAIT_S
) -> dict[str, dict[str, Any]]:
    """Poll /health/detailed until the probe's results satisfy ``until``."""
    deadline = time.monotonic() + timeout
    while True:
        seen = servers_by_url(srv)
        if until(seen):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"probe results never satisfied the condition: {seen}")
        time.sleep(0.1)  # polling the server's status, bounded by the deadline


def metric(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def scrape(srv: Server) -> str:
    return loopback_get(f"{srv.http}/metrics", timeout=5).text


def test_probe_reports_up_with_latency_then_down_when_coturn_stops(
    coturn: Coturn, servers: Callable[[Mapping[str, str]], Server]
) -> None:
    stun, turn = urls(coturn.port)
    srv = servers(probe_settings(coturn.port, coturn.secret))
    seen = wait_status(
        srv, lambda s: all(s.get(u, {}).get("up") for u in (stun, turn)) and len(s) == 2
    )
    for url, kind in ((stun, "stun"), (turn, "turn")):
        assert seen[url]["kind"] == kind
        assert seen[url]["reason"] == "ok"
        assert 0 < seen[url]["latencyMs"] < TIMEOUT_S * 1000, seen[url]
    text = scrape(srv)
    assert metric(text, "connect_turn_up", url=turn) == 1.0
    assert metric(text, "connect_turn_up", url=stun) == 1.0
    assert (metric(text, "connect_turn_probe_seconds_count", url=turn) or 0) >= 1
    assert (metric(text, "connect_turn_probe_latency_seconds", url=turn) or 0) > 0
    # coturn itself saw an authenticated allocation by the probe's REST username, and its
    # release (the probe does not leave allocations behind until they expire).
    log = coturn.log()
    assert re.search(r"user <\d+:connect-probe>: incoming packet ALLOCATE processed, success", log)
    assert re.search(r"refreshed, .*username=<\d+:connect-probe>, lifetime=0", log), log[-3000:]

    coturn.stop()
    stopped = time.monotonic()
    seen = wait_status(srv, lambda s: not any(s[u]["up"] for u in (stun, turn)))
    took = time.monotonic() - stopped
    # One interval until the next round plus the probe's own timeout, with slack for a
    # busy machine: never "eventually".
    assert took < INTERVAL_S + TIMEOUT_S + 5.0, took
    for url in (stun, turn):
        assert seen[url]["reason"] == "unreachable", seen[url]
        assert seen[url]["latencyMs"] is None
    text = scrape(srv)
    assert metric(text, "connect_turn_up", url=turn) == 0.0
    assert metric(text, "connect_turn_up", url=stun) == 0.0
    assert (
        metric(text, "connect_turn_probe_failures_total", url=turn, reason="unreachable") or 0
    ) >= 1


def test_wrong_shared_secret_is_auth_failed_not_unreachable(
    coturn: Coturn, servers: Callable[[Mapping[str, str]], Server]
) -> None:
    stun, turn = urls(coturn.port)
    srv = servers(probe_settings(coturn.port, secrets.token_hex(24)))
    seen = wait_status(srv, lambda s: turn in s and stun in s)
    assert seen[turn]["up"] is False
    assert seen[turn]["reason"] == "auth_failed", seen[turn]
    assert "401" in seen[turn]["detail"], seen[turn]
    # A STUN binding needs no credentials: the server is there, only the secret is wrong.
    assert seen[stun]["up"] is True, seen[stun]
    text = scrape(srv)
    assert metric(text, "connect_turn_up", url=turn) == 0.0
    assert (
        metric(text, "connect_turn_probe_failures_total", url=turn, reason="auth_failed") or 0
    ) >= 1
    assert metric(text, "connect_turn_probe_failures_total", url=turn, reason="unreachable") is None
    assert "401" in coturn.log()
    # The log says so once per change of state, not once per round.
    deadline = time.monotonic() + WAIT_S
    while (
        metric(scrape(srv), "connect_turn_probe_failures_total", url=turn, reason="auth_failed")
        or 0
    ) < 3:
        assert time.monotonic() < deadline, "the probe stopped probing"
        time.sleep(0.2)  # polling /metrics, bounded by the deadline
    down = [line for line in srv.log().splitlines() if "turn_probe_down" in line]
    assert len(down) == 1, down
    assert "reason=auth_failed" in down[0], down


def test_a_silent_turn_server_delays_neither_start_nor_stop(
    servers: Callable[[Mapping[str, str]], Server],
) -> None:
    """A UDP port with a socket bound but nobody answering: every probe runs into its timeout."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        srv = servers(
            probe_settings(
                port,
                secrets.token_hex(24),
                CONNECT_TURN_PROBE_TIMEOUT_S="60",
                CONNECT_LOG_LEVEL="info",
            )
        )
        # Ready while the first probe (60 s to give up) is still waiting: start-up did not
        # wait for it (a timing bound would only measure this machine's load).
        ready = loopback_get(f"{srv.http}/health/ready", timeout=5)
        assert ready.status_code == 200, ready.text
        assert servers_by_url(srv) == {}, "no result before the first probe has finished"
        # Stopped mid-probe: the task is cancelled, the lifespan completes, no kill needed
        # (Server.stop kills only after 10 s, which would show as -9 below).
        srv.stop()
    # uvicorn re-raises SIGTERM after a graceful shutdown: -15 with the lifespan finished.
    assert srv.proc.returncode in (0, -signal.SIGTERM), srv.log()[-3000:]
    assert "Application shutdown complete" in srv.log(), srv.log()[-3000:]
    assert "Traceback" not in srv.log(), srv.log()[-3000:]


async def test_admin_overview_shows_the_probe_to_staff_only(
    coturn: Coturn, servers: Callable[[Mapping[str, str]], Server]
) -> None:
    from tests.support.client import guest_token
    from tests.support.staff import new_admin

    stun, turn = urls(coturn.port)
    srv = servers(probe_settings(coturn.port, coturn.secret))
    wait_status(srv, lambda s: all(s.get(u, {}).get("up") for u in (stun, turn)))
    admin, _, _ = await new_admin(srv)
    stats = await admin.call("GET", "/api/admin/stats")
    assert stats.status_code == 200, stats.text
    shown = {s["url"]: s for s in stats.json()["turn"]}
    assert set(shown) == {stun, turn}
    assert shown[turn]["up"] is True
    assert shown[turn]["kind"] == "turn"
    assert shown[turn]["reason"] == "ok"
    assert shown[turn]["latencyMs"] > 0
    assert shown[turn]["checkedAt"].endswith("Z") or "+00:00" in shown[turn]["checkedAt"]
    async with loopback_client(base_url=srv.http) as http:
        guest = await guest_token(srv.http)
        refused = await http.get("/api/admin/stats", headers={"Authorization": f"Bearer {guest}"})
        anonymous = await http.get("/api/admin/stats")
    # A visitor's guest token is not an account: refused like no token at all.
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "unauthorized"
    assert anonymous.status_code == 401, anonymous.text
