"""A real Connect server in a subprocess on a free loopback port.

Started with ``python -m connect serve --migrate`` against a throw-away data
directory, ready when ``/health`` answers, stopped by its PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.http import loopback_get

STARTUP_TIMEOUT_S = 60.0

TEST_SETTINGS = {
    "CONNECT_ENV": "dev",
    "CONNECT_MATCH_ALLOW_SAME_IP": "true",
    "CONNECT_RATE_TOKEN": "10000/minute",
    "CONNECT_RATE_HELLO": "10000/minute",
    "CONNECT_RATE_JOIN": "10000/minute",
    "CONNECT_RATE_REPORT": "10000/hour",
    "CONNECT_RATE_CHAT": "1000/second",
    "CONNECT_LOG_LEVEL": "warning",
    "CONNECT_RATE_LOGIN": "10000/minute",
    "CONNECT_RATE_APPEAL": "10000/hour",
    "CONNECT_RATE_AVATAR": "10000/minute",
    "CONNECT_RATE_PROFILE": "10000/minute",
    "CONNECT_RATE_CHANNEL": "10000/minute",
    "CONNECT_RATE_CALL": "10000/minute",
    "CONNECT_RATE_RECEIPT": "10000/second",
    "CONNECT_RATE_READ": "10000/second",
    "CONNECT_RATE_STAFF": "10000/second",
    "CONNECT_REPORT_SPAM_PER_HOUR": "1000",
    "CONNECT_TOKEN_CHURN_DEVICES": "100000",
    "CONNECT_NEXT_STREAK_COUNT": "100000",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``connect <args>`` against this server's database and settings."""
        return subprocess.run(
            [sys.executable, "-m", "connect", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


PORT_ATTEMPTS = 5


def start_server(
    data_dir: Path,
    overrides: Mapping[str, str] | None = None,
    launcher: Sequence[str] = ("-m", "connect"),
) -> Server:
    """Start ``connect serve`` on a free loopback port and wait until it is healthy.

    :func:`free_port` can only name a port that was free a moment ago: another
    process (a parallel worker's server, Redis, an SMTP sink) may bind it before
    this server does. Such a start fails with "address already in use" and is
    tried again on another port, a bounded number of times.

    ``launcher``: the interpreter arguments before ``serve`` (a test may run the CLI
    through a wrapper of its own).
    """
    for attempt in range(PORT_ATTEMPTS):
        try:
            return _start_on(free_port(), data_dir, overrides, launcher)
        except PortTaken:
            if attempt == PORT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class PortTaken(RuntimeError):
    pass


def _start_on(
    port: int,
    data_dir: Path,
    overrides: Mapping[str, str] | None,
    launcher: Sequence[str] = ("-m", "connect"),
) -> Server:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    env.update(TEST_SETTINGS)
    env["CONNECT_DATA_DIR"] = str(data_dir)
    env.update(overrides or {})
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                *launcher,
                "serve",
                "--migrate",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, port, data_dir, log_path, env)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = server.log()
            if "address already in use" in output:
                raise PortTaken(f"port {port} was taken before the server bound it")
            raise RuntimeError(f"server exited with {proc.returncode}:\n{output}")
        try:
            if loopback_get(f"{server.http}/health", timeout=0.5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # polling the health endpoint, bounded by the deadline
    server.stop()
    raise RuntimeError(f"server did not become healthy:\n{server.log()}")
