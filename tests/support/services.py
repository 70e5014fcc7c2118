"""Throw-away Redis and NATS (JetStream) servers on free loopback ports, stopped by PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.server import connect_migrate, free_port

T = TypeVar("T")

REDIS = shutil.which("redis-server")
NATS = shutil.which("nats-server") or (
    "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
)


def missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {what}", pytrace=False)
    pytest.skip(what)


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)  # polling the port, bounded by the deadline
    raise RuntimeError(f"nothing listening on {port}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def redis_args(port: int, data_dir: Path) -> list[str]:
    """A throw-away Redis on loopback: nothing saved, its files in ``data_dir``."""
    return [
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(data_dir),
    ]


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    if REDIS is None:
        missing("redis-server is not installed (apt-get install -y redis-server)")
    assert REDIS is not None
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(
        [REDIS, *redis_args(port, tmp)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


@contextmanager
def nats_server(tmp: Path) -> Iterator[str]:
    if NATS is None:
        missing("nats-server is not installed (apt-get install -y nats-server)")
    assert NATS is not None
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(
        [NATS, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, proc)
        yield f"nats://127.0.0.1:{port}"
    finally:
        _stop(proc)


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextmanager
def postgres_server(tmp: Path) -> Iterator[str]:
    """A throw-away PostgreSQL cluster (trust auth, loopback only); yields its base URL."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        missing("PostgreSQL is not installed (apt-get install -y postgresql)")
    assert bin_dir is not None
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root, and the postgres user cannot enter pytest's
        # private temp tree: use a directory of its own under /tmp.
        tmp = Path(tempfile.mkdtemp(prefix="connect-pg-"))
        shutil.chown(tmp, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    tmp.mkdir(parents=True, exist_ok=True)
    data = tmp / "pgdata"
    port = free_port()
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_postgres,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
            "-l",
            str(tmp / "postgres.log"),
            "-w",
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            check=False,
            capture_output=True,
        )
        if as_postgres:
            shutil.rmtree(tmp, ignore_errors=True)


_MIGRATED_TEMPLATES: set[str] = set()
TEMPLATE_DB = "connect_template"


def create_database(base_url: str, name: str, *, migrated: bool = False) -> str:
    """CREATE DATABASE through psycopg-free asyncpg; return the SQLAlchemy URL of it.

    ``migrated``: a copy of a database this PostgreSQL holds at the migrations' head
    (``CREATE DATABASE ... TEMPLATE``, a file copy), migrated once by ``connect migrate``
    instead of once per server (tests/support/server.py).
    """
    if migrated and base_url not in _MIGRATED_TEMPLATES:
        _create(base_url, f'CREATE DATABASE "{TEMPLATE_DB}"')
        _migrate(f"{base_url}/{TEMPLATE_DB}")
        _MIGRATED_TEMPLATES.add(base_url)
    template = f' TEMPLATE "{TEMPLATE_DB}"' if migrated else ""
    _create(base_url, f'CREATE DATABASE "{name}"{template}')
    return f"{base_url}/{name}"


def _migrate(url: str) -> None:
    connect_migrate({"CONNECT_ENV": "dev", "CONNECT_DATABASE_URL": url})


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _create(base_url: str, statement: str) -> None:
    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(_dsn(base_url) + "/postgres")
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    _run(create)


def database_revision(url: str) -> str | None:
    """The Alembic revision a PostgreSQL database is at (None: none, or no such database)."""
    import asyncpg

    async def read() -> str | None:
        try:
            conn = await asyncpg.connect(_dsn(url), timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError):
            return None  # no such database, or PostgreSQL down: the server migrates
        try:
            value = await conn.fetchval("SELECT version_num FROM alembic_version")
        except asyncpg.UndefinedTableError:
            return None
        finally:
            await conn.close()
        return None if value is None else str(value)

    return _run(read)


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    import asyncio

    return asyncio.run(make()) if not _loop_running() else _run_in_thread(make)


def _loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    import asyncio
    import threading

    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(make()))
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]
    return results[0]
