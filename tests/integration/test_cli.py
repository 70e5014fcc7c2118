"""The `connect` command on a fresh machine (issue 14, point 4), as an operator types it.

Each test runs the real command in a subprocess against a throw-away data directory:
every failure must be one line on stderr and a non-zero exit, never a Traceback,
never a secret or a hash, and must leave no file behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.server import TEST_SETTINGS, start_server

PASSWORD = "correct horse battery staple"


def connect(
    data_dir: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    base.update(TEST_SETTINGS)
    base["CONNECT_DATA_DIR"] = str(data_dir)
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "connect", *args],
        env=base,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line_failure(result: subprocess.CompletedProcess[str], code: int) -> str:
    out = result.stdout + result.stderr
    assert result.returncode == code, out
    assert "Traceback" not in out, out
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith("connect "), lines
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("create-admin", "--email", "root@example.test", "--password", PASSWORD),
        ("audit-verify",),
        ("serve", "--port", "1"),
    ],
)
def test_a_fresh_data_dir_is_refused_naming_migrate_and_left_empty(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    data = tmp_path / "fresh"
    line = one_line_failure(connect(data, *args), 2)
    assert "connect migrate" in line
    assert not data.exists() or list(data.iterdir()) == [], "no empty connect.db left behind"
    assert PASSWORD not in line


def test_first_admin_steps_work_as_documented_and_refuse_bad_input(tmp_path: Path) -> None:
    data = tmp_path / "data"
    migrated = connect(data, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "Traceback" not in migrated.stdout + migrated.stderr
    assert (data / "connect.db").exists()

    bad_email = one_line_failure(
        connect(data, "create-admin", "--email", "notanemail", "--password", PASSWORD), 2
    )
    assert "email" in bad_email
    short = one_line_failure(
        connect(data, "create-admin", "--email", "root@example.test", "--password", "short"), 2
    )
    assert "password" in short
    assert "short" not in short.split(":", 1)[1], "the password itself is never echoed"
    empty = one_line_failure(connect(data, "create-admin", "--email", "root@example.test"), 2)
    assert "password" in empty

    # The password from stdin (as the README shows), so it is not in the process list.
    created = connect(data, "create-admin", "--email", "Root@Example.test", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    out = created.stdout + created.stderr
    assert "created admin root@example.test" in out
    assert PASSWORD not in out
    assert "$argon2" not in out

    again = one_line_failure(
        connect(data, "create-admin", "--email", "root@example.test", "--password", PASSWORD), 1
    )
    assert "exists" in again
    assert "$argon2" not in again

    verified = connect(data, "audit-verify")
    assert verified.returncode == 0, verified.stderr
    assert "audit log intact: 1 entries" in verified.stdout

    # The admin created this way can log in (the email was validated as the API does).
    server = start_server(data)
    try:
        r = httpx.post(
            f"{server.http}/api/auth/login",
            json={"email": "root@example.test", "password": PASSWORD},
            timeout=10,
        )
        assert r.status_code == 200, r.text
    finally:
        server.stop()


def test_a_schema_behind_this_version_refuses_to_serve(tmp_path: Path) -> None:
    from alembic import command

    from connect.storage.migrate import alembic_config

    data = tmp_path / "data"
    assert connect(data, "migrate").returncode == 0
    url = f"sqlite+aiosqlite:///{(data / 'connect.db').resolve()}"
    command.downgrade(alembic_config(url), "0001")
    line = one_line_failure(connect(data, "serve", "--port", "1"), 2)
    assert "0001" in line
    assert "connect migrate" in line
    assert connect(data, "migrate").returncode == 0
    verified = connect(data, "audit-verify")
    assert verified.returncode == 0, verified.stderr


def test_an_unreachable_database_and_bad_settings_are_one_line_without_secrets(
    tmp_path: Path,
) -> None:
    unreachable = {
        "CONNECT_DATABASE_URL": "postgresql+asyncpg://connect:s3cr3tpw@127.0.0.1:1/connect"
    }
    for args in (
        ("migrate",),
        ("audit-verify",),
        ("serve", "--port", "1"),
        ("serve", "--migrate", "--port", "1"),  # migrates in a child process: same one line
    ):
        line = one_line_failure(connect(tmp_path / "pg", *args, **unreachable), 1)
        assert line.startswith(f"connect {args[0]}: cannot reach the database"), line
        assert "s3cr3tpw" not in line

    line = one_line_failure(
        connect(
            tmp_path / "redis",
            "serve",
            "--migrate",
            "--port",
            "1",
            CONNECT_REDIS_URL="redis://:s3cr3tpw@127.0.0.1:1/0",
        ),
        1,
    )
    assert "cannot reach Redis" in line
    assert "s3cr3tpw" not in line

    secret = "not-long-enough-secret"
    line = one_line_failure(
        connect(tmp_path / "prod", "audit-verify", CONNECT_ENV="prod", CONNECT_JWT_SECRET=secret),
        2,
    )
    assert "CONNECT_JWT_SECRET" in line
    assert secret not in line
    assert not (tmp_path / "prod").exists()
