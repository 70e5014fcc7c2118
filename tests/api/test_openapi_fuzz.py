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
the refusals of everything else). Another account exists so the stateful
phase meets ids of other users. ``tests/api/fuzz_auth.py`` logs in again when
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
FUZZ_S = int(os.environ.get("CONNECT_FUZZ_S", "60"))


def fuzz(
    server: Server, caller: dict[str, str], seconds: int, workdir: Path
) -> subprocess.CompletedProcess[str]:
    args = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
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
    workdir.mkdir(parents=True, exist_ok=True)
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
    _, email, password = await new_admin(server)
    await new_user(server, "Other")
    callers = [
        ("admin", {"CONNECT_FUZZ_EMAIL": email, "CONNECT_FUZZ_PASSWORD": password}, FUZZ_S),
        ("guest", {"CONNECT_FUZZ_DEVICE": f"fuzz{secrets.token_hex(6)}"}, max(10, FUZZ_S // 2)),
    ]
    failures = []
    for who, caller, seconds in callers:
        done = fuzz(server, caller, seconds, tmp_path / who)
        if done.returncode != 0:
            failures.append(
                f"--- as {who} (full output in {tmp_path / who}): exit {done.returncode}\n"
                f"{done.stdout[-20000:]}\n{done.stderr[-3000:]}"
            )
    log = server.log()[log_start:]
    assert "Traceback" not in log, log[max(0, log.index("Traceback") - 2000) :][:6000]
    assert not failures, "\n".join(failures)
