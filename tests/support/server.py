"""A real Connect server in a subprocess on a free loopback port.

Started with ``python -m connect serve`` against a throw-away data directory, ready
when ``/health`` answers, stopped by its PID.

Its database is at the migrations' head before it starts, the way a deployment's
nodes find it (the ``migrate`` job ran first): a fresh SQLite data directory gets a
copy of a database this process migrated once with ``connect migrate`` (the real
migrations, run once instead of once per server: each run is a second interpreter
importing Alembic, about 1.2 s of CPU, and the suites start hundreds of servers).
A database not at head (another URL, an older schema) is served with ``--migrate``,
as is every server a test asks to migrate (``migrate=True``: the tests of
``serve --migrate`` itself).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from connect.storage.migrate import current_head
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
SQLITE_FILE = "connect.db"  # Settings.sqlalchemy_url without CONNECT_DATABASE_URL

_template_lock = threading.Lock()
_template: Path | None = None


def connect_migrate(settings: Mapping[str, str]) -> None:
    """``connect migrate`` in its own interpreter, with ``settings`` as its only
    ``CONNECT_`` environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    env.update(settings)
    done = subprocess.run(
        [sys.executable, "-m", "connect", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"connect migrate failed:\n{done.stdout}{done.stderr}")


def migrated_sqlite() -> Path:
    """A SQLite database at head, made once per process by ``connect migrate``."""
    global _template
    with _template_lock:
        if _template is None:
            where = Path(tempfile.mkdtemp(prefix="connect-template-"))
            connect_migrate({**TEST_SETTINGS, "CONNECT_DATA_DIR": str(where)})
            _template = where / SQLITE_FILE
        return _template


def _sqlite_revision(path: Path) -> str | None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _postgres_revision(url: str) -> str | None:
    from tests.support.services import database_revision

    return database_revision(url)


def needs_migrate(data_dir: Path, env: Mapping[str, str]) -> bool:
    """Whether the server's database is below head (a fresh SQLite one is made at head)."""
    url = env.get("CONNECT_DATABASE_URL")
    if url is None:
        path = data_dir / SQLITE_FILE
        if not path.exists():
            shutil.copyfile(migrated_sqlite(), path)
            return False
        return _sqlite_revision(path) != current_head()
    if url.startswith("postgresql+asyncpg://"):
        return _postgres_revision(url) != current_head()
    return True


def start_server(
    data_dir: Path,
    overrides: Mapping[str, str] | None = None,
    launcher: Sequence[str] = ("-m", "connect"),
    *,
    migrate: bool | None = None,
) -> Server:
    """Start ``connect serve`` on a free loopback port and wait until it is healthy.

    :func:`free_port` can only name a port that was free a moment ago: another
    process (a parallel worker's server, Redis, an SMTP sink) may bind it before
    this server does. Such a start fails with "address already in use" and is
    tried again on another port, a bounded number of times.

    ``launcher``: the interpreter arguments before ``serve`` (a test may run the CLI
    through a wrapper of its own). ``migrate``: pass ``--migrate`` (True), or only when
    the database is not at head (None, module docstring).
    """
    for attempt in range(PORT_ATTEMPTS):
        try:
            return _start_on(free_port(), data_dir, overrides, launcher, migrate)
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
    migrate: bool | None = None,
) -> Server:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    env.update(TEST_SETTINGS)
    env["CONNECT_DATA_DIR"] = str(data_dir)
    env.update(overrides or {})
    if migrate is None:
        migrate = needs_migrate(data_dir, env)
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                *launcher,
                "serve",
                *(["--migrate"] if migrate else []),
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
