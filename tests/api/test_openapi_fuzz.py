"""Every route of the OpenAPI document, fuzzed by schemathesis against a real server.

On both backends (SQLite in memory mode, PostgreSQL + Redis), with every
check schemathesis has (``--checks all``): no 5xx, only the statuses and
content types the document states, responses that match their schemas,
schema-valid input accepted and schema-violating input refused,
authentication never ignored, 405s with the right ``Allow``. The run is
bounded in time (``CONNECT_FUZZ_S`` seconds for the account, half as long for
the guest; 60 by default) and its seed is random unless ``SCHEMATHESIS_SEED``
is set: a failure prints the seed and a ``curl`` line for each case, and the
whole output is kept in the test's tmp directory.

Two callers, so both kinds of token are exercised: an admin account (every
account and staff route reaches its logic) and a guest (the guest routes, and
the refusals of everything else). The admin has a conversation with another
account, a message, an attachment and a ban: half of the generated ids are
those, so the routes behind them get past their 404s. ``tests/api/fuzz_auth.py`` logs in again when
a fuzzed logout ends the login; ``tests/api/schemathesis.toml`` lists where
the contract differs from a check's defaults, with the reasons.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.support.server import Server
from tests.support.staff import new_admin
from tests.support.users import new_user

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CONFIG = HERE / "schemathesis.toml"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
FUZZ_S = int(os.environ.get("CONNECT_FUZZ_S", "30"))


# Half of the generated ids are real ones (seeded below), so routes get past their 404s.
SEEDED_PARAMETERS = {
    "path.channel_id": "channel",
    "path.message_id": "message",
    "path.attachment_id": "attachment",
    "path.user_id": "user",
    "path.ban_id": "ban",
    "body.userId": "user",
    "body.calleeId": "user",
    "body.channelId": "channel",
    "body.messageId": "message",
    "body.attachmentId": "attachment",
    "body.banId": "ban",
}


def config_with(seeds: dict[str, str], workdir: Path) -> Path:
    """The static settings plus dictionaries of this run's real ids."""
    lines = [CONFIG.read_text(), "", "# Generated for this run: ids the seeding created."]
    for name, value in seeds.items():
        lines += [f"[dictionaries.{name}]", f'values = ["{value}"]']
    lines.append("[parameters]")
    for key, name in SEEDED_PARAMETERS.items():
        lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}')
    path = workdir / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


async def seed(server: Server) -> tuple[dict[str, str], dict[str, str]]:
    """An admin with a conversation, a message, an attachment and a ban; its login and ids."""
    admin, email, password = await new_admin(server)
    other = await new_user(server, "Other")
    r = await admin.call("POST", "/api/channels", json={"userId": other.id})
    assert r.status_code == 200, r.text
    channel = r.json()["id"]
    r = await admin.call(
        "POST", f"/api/channels/{channel}/messages", json={"text": "seed", "clientId": "seed"}
    )
    assert r.status_code == 201, r.text
    message = r.json()["id"]
    r = await admin.call(
        "POST",
        "/api/attachments",
        data={"channelId": channel},
        files={"file": ("seed.txt", b"seed", "text/plain")},
    )
    assert r.status_code == 201, r.text
    attachment = r.json()["id"]
    r = await admin.call(
        "POST", "/api/admin/bans", json={"scope": "device", "value": "seeddevice", "reason": "seed"}
    )
    assert r.status_code == 201, r.text
    ids = {
        "channel": channel,
        "message": message,
        "attachment": attachment,
        "user": other.id,
        "ban": r.json()["id"],
    }
    return {"CONNECT_FUZZ_EMAIL": email, "CONNECT_FUZZ_PASSWORD": password}, ids


def fuzz(
    server: Server, caller: dict[str, str], seconds: int, workdir: Path, seeds: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    args = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config_with(seeds, workdir)),
        "run",
        f"{server.http}/api/openapi.json",
        "--checks",
        "all",
        "--max-time",
        str(seconds),
        # One worker: the server shares the machine, and hypothesis' source
        # introspection is not thread-safe on CPython 3.11 (SystemError seen with 2).
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
    ]
    if seed := os.environ.get("SCHEMATHESIS_SEED"):
        args += ["--seed", seed]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.api.fuzz_auth",
        "CONNECT_FUZZ_URL": server.http,
        **caller,
    }
    done = subprocess.run(
        args,
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 180,
        check=False,
    )
    (workdir / "schemathesis.txt").write_text(done.stdout + done.stderr)
    return done


async def test_every_route_keeps_its_contract_under_fuzzing(server: Server, tmp_path: Path) -> None:
    log_start = len(server.log())
    account, ids = await seed(server)
    callers = [
        ("admin", account, FUZZ_S),
        ("guest", {"CONNECT_FUZZ_DEVICE": f"fuzz{secrets.token_hex(6)}"}, max(10, FUZZ_S // 2)),
    ]
    failures = []
    for who, caller, seconds in callers:
        done = fuzz(server, caller, seconds, tmp_path / who, ids)
        if done.returncode != 0:
            failures.append(
                f"--- as {who} (full output in {tmp_path / who}): exit {done.returncode}\n"
                f"{done.stdout[-20000:]}\n{done.stderr[-3000:]}"
            )
    log = server.log()[log_start:]
    assert "Traceback" not in log, log[max(0, log.index("Traceback") - 2000) :][:6000]
    assert not failures, "\n".join(failures)
