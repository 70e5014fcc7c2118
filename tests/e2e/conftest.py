"""Browser end-to-end fixtures: Debian Chromium with a fake camera, a real
Connect server and a real coturn, all inside a loopback-only network
namespace (docs/testing.md). ``make test-e2e`` enters the namespace; run outside
one, these tests refuse to send WebRTC probes anywhere and skip (or, under
CI=true, fail).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support.server import Server, free_port, start_server

CHROMIUM = "/usr/bin/chromium"
TURNSERVER = "/usr/bin/turnserver"
STATIC_INDEX = Path(__file__).parents[2] / "src" / "connect" / "static" / "index.html"
ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {what}", pytrace=False)
    pytest.skip(what)


def _interfaces() -> set[str]:
    lines = Path("/proc/net/dev").read_text().splitlines()[2:]
    return {line.split(":", 1)[0].strip() for line in lines}


@pytest.fixture(scope="session", autouse=True)
def loopback_only_namespace() -> None:
    ifaces = _interfaces()
    if ifaces != {"lo"}:
        _missing(
            f"not in a loopback-only network namespace (interfaces: {sorted(ifaces)}); use make test-e2e"
        )


@dataclass
class Turn:
    port: int
    secret: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="session")
def turn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Turn]:
    if not Path(TURNSERVER).exists():
        _missing("coturn is not installed (apt-get install -y coturn)")
    work = tmp_path_factory.mktemp("coturn")
    port = free_port()
    secret = secrets.token_hex(24)
    cfg = work / "turnserver.conf"
    log_path = work / "turn.log"
    min_port = 49152 + secrets.randbelow(10000)
    cfg.write_text(
        "\n".join(
            [
                "listening-ip=127.0.0.1",
                "relay-ip=127.0.0.1",
                f"listening-port={port}",
                f"min-port={min_port}",
                f"max-port={min_port + 200}",
                "use-auth-secret",
                f"static-auth-secret={secret}",
                "realm=connect.test",
                "no-tls",
                "no-dtls",
                "no-cli",
                "no-multicast-peers",
                "allow-loopback-peers",
                f"log-file={log_path}",
                "simple-log",
                "verbose",
                f"pidfile={work / 'turn.pid'}",
            ]
        )
        + "\n"
    )
    proc = subprocess.Popen(
        [TURNSERVER, "-c", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    yield Turn(port, secret, log_path)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory, turn: Turn) -> Iterator[Server]:
    if not STATIC_INDEX.exists():
        _missing("the web app is not built (make web)")
    srv = start_server(
        tmp_path_factory.mktemp("e2e-server"),
        {
            "CONNECT_TURN_SECRET": turn.secret,
            "CONNECT_TURN_URLS": f"turn:127.0.0.1:{turn.port}?transport=udp",
            "CONNECT_STUN_URLS": f"stun:127.0.0.1:{turn.port}",
            # Tests may speak "from" another address through X-Forwarded-For.
            "CONNECT_TRUSTED_PROXIES": "127.0.0.1/32",
        },
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        _missing("Chromium is not installed (apt-get install -y chromium)")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
