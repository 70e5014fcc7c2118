"""An idle node loads only what serving needs (issue 19: memory before any connection).

A real ``connect serve --migrate`` answers ``/health/ready``, is stopped with SIGINT
(uvicorn's graceful shutdown, then ``main`` returns), and writes the modules it had
loaded at exit. Each module listed here is resident memory a node paid for a feature
it did not use: Alembic and Mako (only to migrate, done in a child process), aioice
with dnspython and ifaddr (the TURN probe, only with TURN/STUN URLs), Pillow (only to
decode frames when frame checking is on), asyncpg (only with PostgreSQL).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, backend_settings
from tests.support.http import loopback_get
from tests.support.server import PORT_ATTEMPTS, TEST_SETTINGS, free_port

NOT_WHEN_IDLE = {"alembic", "mako", "aioice", "dns", "ifaddr", "PIL"}
NOT_WITHOUT_POSTGRES = {"asyncpg"}

# The same entry point as `connect serve`, plus a record of sys.modules at exit.
WRAPPER = """
import atexit, json, sys
from connect.cli import main
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.exit(main(sys.argv[1:]))
"""


def serve_at(port: int) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(port)]


def idle_modules(data_dir: Path, overrides: dict[str, str]) -> set[str]:
    """The modules a real idle server had loaded; a port taken before the server bound
    it (another worker's server, see tests/support/server.py) is tried again elsewhere."""
    for _ in range(PORT_ATTEMPTS):
        loaded = _idle_modules_on(free_port(), data_dir, overrides)
        if loaded is not None:
            return loaded
    raise AssertionError(f"no free port in {PORT_ATTEMPTS} attempts")


def _idle_modules_on(port: int, data_dir: Path, overrides: dict[str, str]) -> set[str] | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    env.update(TEST_SETTINGS, CONNECT_DATA_DIR=str(data_dir), **overrides)
    out = data_dir / "modules.json"
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, str(out), "serve", "--migrate", *serve_at(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                if "address already in use" in log_path.read_text():
                    return None
                raise AssertionError(log_path.read_text())
            assert time.monotonic() < deadline, "the server did not become ready"
            try:
                ready = loopback_get(f"http://127.0.0.1:{port}/health/ready", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling under a deadline, not synchronisation
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return {name.split(".")[0] for name in json.loads(out.read_text())}


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_idle_server_has_not_loaded_what_it_does_not_use(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    overrides = {}
    if backend != "memory-sqlite":
        overrides = backend_settings(backend, request.getfixturevalue("backing_services"))
    loaded = idle_modules(tmp_path, overrides)
    assert {"connect", "uvicorn"} <= loaded  # it did serve
    assert loaded & NOT_WHEN_IDLE == set()
    if backend == "memory-sqlite":
        assert loaded & NOT_WITHOUT_POSTGRES == set()
    else:
        assert "asyncpg" in loaded  # the check would see it
