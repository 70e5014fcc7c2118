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
import signal
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, backend_settings
from tests.support.http import loopback_get
from tests.support.server import start_server

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


def idle_modules(data_dir: Path, overrides: dict[str, str]) -> set[str]:
    """The modules a real idle server had loaded: started as every test server is
    (:func:`start_server`, through the wrapper) but always with ``--migrate``, ready,
    then stopped with SIGINT."""
    out = data_dir / "modules.json"
    server = start_server(data_dir, overrides, launcher=("-c", WRAPPER, str(out)), migrate=True)
    try:
        ready = loopback_get(f"{server.http}/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        server.proc.send_signal(signal.SIGINT)
        server.proc.wait(timeout=30)
    finally:
        server.stop()
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
