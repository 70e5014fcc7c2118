"""PostgreSQL faults against two real nodes sharing real Redis and PostgreSQL processes.

PostgreSQL is stopped (fast shutdown, as an operator's restart or a crash would do)
for longer than every cache the nodes keep (ban and account lookups: 30 s), while
clients keep calling REST routes, opening gateway sockets and sending gateway events
through both nodes. Then it is started again on the same port and data directory, and
the nodes must recover by themselves. What must hold (issue 14, point 2):

- no answer is a 500: a route that needs the database answers 503 ``unavailable``
  with ``retryAfterMs`` and a Retry-After header; nothing hangs;
- every ``hello`` is answered within its timeout: a welcome, or an error event and a
  close with 1013 (or 1011);
- ``/health/ready`` is 503 while the database is down and 200 again after it is back;
- the server logs hold no Traceback and at most a few rate-limited lines per cause.

A second test puts a running node's database back to an unmigrated schema (a restored
old backup): readiness says so, requests answer 503, hello is answered, housekeeping
does not log every second, and ``connect serve`` refuses to start on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets

from tests.support.client import CONTRACT_VIOLATIONS, Peer, guest_token
from tests.support.cluster import Cluster
from tests.support.http import loopback_client
from tests.support.server import free_port
from tests.support.services import _pg_bin, create_database, missing, redis_server
from tests.support.users import User, new_user

pytestmark = pytest.mark.cluster

# Longer than every cache the nodes keep in front of the database (30 s).
OUTAGE_S = 35.0
HELLO_TIMEOUT_S = 3.0
# How long the nodes may take to be ready again once PostgreSQL accepts connections.
RECOVERY_BOUND_S = 10.0
REST_TIMEOUT_S = 15.0
FAULT_LINES = ("dependency_unavailable", "unexpected_error")


@dataclass
class Postgres:
    """One PostgreSQL cluster the test can stop and start again on the same port."""

    bin_dir: Path
    data: Path
    port: int
    log: Path
    as_postgres: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=300"
        )
        self._ctl("-o", opts, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def pids(self) -> list[int]:
        """The postmaster and every backend it forked (all started by this test)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def pause(self) -> list[int]:
        pids = self.pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    @staticmethod
    def resume(pids: list[int]) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def running(self) -> bool:
        result = subprocess.run(
            [*self.as_postgres, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0


@contextmanager
def restartable_postgres(tmp: Path) -> Iterator[Postgres]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        missing("PostgreSQL is not installed (apt-get install -y postgresql)")
    assert bin_dir is not None
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses root; the postgres user cannot enter pytest's private tree.
        tmp = Path(tempfile.mkdtemp(prefix="connect-pgfault-"))
        shutil.chown(tmp, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    tmp.mkdir(parents=True, exist_ok=True)
    pg = Postgres(bin_dir, tmp / "pgdata", free_port(), tmp / "postgres.log", as_postgres)
    subprocess.run(
        [
            *as_postgres,
            str(bin_dir / "initdb"),
            "-D",
            str(pg.data),
            "--auth=trust",
            "-U",
            "postgres",
        ],
        check=True,
        capture_output=True,
    )
    pg.start()
    try:
        yield pg
    finally:
        if pg.running():
            pg.stop()
        if as_postgres:
            shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class World:
    pg: Postgres
    cluster: Cluster
    db_url: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    work = Path(tmp_path_factory.mktemp("pgfaults"))
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(work / "redis"))
        pg = stack.enter_context(restartable_postgres(work / "pg"))
        db_url = create_database(pg.url, "connect_faults")
        cluster = Cluster(
            work, redis_url, db_url, {"CONNECT_HELLO_TIMEOUT_S": str(HELLO_TIMEOUT_S)}
        )
        stack.callback(cluster.stop)
        cluster.start_node(0)
        cluster.start_node(1)
        yield World(pg, cluster, db_url)


@pytest.fixture(autouse=True)
def contract() -> Iterator[None]:
    CONTRACT_VIOLATIONS.clear()
    yield
    assert CONTRACT_VIOLATIONS == []


async def ready(http: str) -> tuple[int, dict[str, Any]]:
    async with loopback_client(timeout=REST_TIMEOUT_S) as c:
        r = await c.get(f"{http}/health/ready")
        return r.status_code, r.json()


async def wait_ready(http: str, want: int, bound_s: float) -> float:
    """Poll readiness until it answers ``want``; return how long that took."""
    started = time.monotonic()
    deadline = started + bound_s
    while True:
        status, body = await ready(http)
        if status == want:
            return time.monotonic() - started
        assert time.monotonic() < deadline, f"{http} ready={status} {body} after {bound_s}s"
        await asyncio.sleep(0.1)  # polling readiness, bounded by the deadline


@dataclass
class Answer:
    what: str
    status: int
    ms: float
    retry_after_ms: int | None = None
    retry_after_header: str | None = None
    code: str | None = None


async def rest_round(http: str, user: User, channel_id: str, n: int) -> list[Answer]:
    """One of each kind of call a client makes, against one node."""
    calls: list[tuple[str, str, str, dict[str, Any]]] = [
        ("guest token", "POST", "/api/auth/token", {"json": {"deviceId": f"dev_fault{n:08d}"}}),
        ("login", "POST", "/api/auth/login", {"json": {"email": user.email, "password": "x" * 12}}),
        ("me", "GET", "/api/auth/me", {}),
        ("channels", "GET", "/api/channels", {}),
        ("history", "GET", f"/api/channels/{channel_id}/messages", {}),
        (
            "send",
            "POST",
            f"/api/channels/{channel_id}/messages",
            {"json": {"text": f"during {n}", "clientId": f"c{n:030d}"}},
        ),
        ("undelivered", "GET", "/api/messages/undelivered", {}),
    ]
    out = []
    async with loopback_client(base_url=http, timeout=REST_TIMEOUT_S) as c:
        for what, method, path, kwargs in calls:
            started = time.monotonic()
            r = await c.request(method, path, headers=user.headers, **kwargs)
            ms = (time.monotonic() - started) * 1000
            body = (
                r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            )
            error = body.get("error") if isinstance(body, dict) else None
            out.append(
                Answer(
                    what,
                    r.status_code,
                    ms,
                    body.get("retryAfterMs") if isinstance(body, dict) else None,
                    r.headers.get("retry-after"),
                    error.get("code") if isinstance(error, dict) else None,
                )
            )
    return out


async def hello(ws_url: str, token: str) -> tuple[str, float, int | None]:
    """Open a socket and say hello: ("welcome" | error code, seconds to the answer, close code)."""
    started = time.monotonic()
    async with websockets.connect(ws_url, open_timeout=REST_TIMEOUT_S) as ws:
        await ws.send(orjson.dumps({"event": "hello", "data": {"token": token}}).decode())
        async with asyncio.timeout(HELLO_TIMEOUT_S * 2 + 5):
            frame = orjson.loads(await ws.recv())
        elapsed = time.monotonic() - started
        if frame["event"] == "welcome":
            return "welcome", elapsed, None
        assert frame["event"] == "error", frame
        code: str = frame["data"]["code"]
        if code == "unavailable":
            assert frame["data"].get("retryAfterMs", 0) > 0, frame
        async with asyncio.timeout(5):
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
        rcvd = ws.close_code
        return code, elapsed, rcvd


def fault_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if any(k in line for k in FAULT_LINES)]


async def test_postgres_down_longer_than_every_cache_answers_503_and_heals(world: World) -> None:
    nodes = world.cluster.nodes
    for node in nodes:
        await wait_ready(node.http, 200, 10)
    alice = await new_user(nodes[0], "Alice")
    bob = await new_user(nodes[1], "Bob")
    bob_on_1 = User(nodes[1], bob.id, bob.email, bob.password, bob.access)
    r = await alice.call("POST", "/api/channels", json={"userId": bob.id})
    assert r.status_code in (200, 201), r.text
    channel_id = r.json()["id"]
    guest = await guest_token(nodes[0].http)
    bob_device = await Peer.connect(nodes[1].ws, bob.access)
    alice_device = await Peer.connect(nodes[0].ws, alice.access)
    # Both sockets past their welcome hooks (the contacts backlog query) before the stop.
    await bob_device.barrier()
    await alice_device.barrier()
    logs_before = [len(n.log()) for n in nodes]

    world.pg.stop()
    down_at = time.monotonic()
    # Readiness turns false promptly on both nodes.
    unready_s = [await wait_ready(n.http, 503, 5) for n in nodes]
    status, body = await ready(nodes[0].http)
    assert body["checks"]["database"].startswith("error"), body

    answers: list[Answer] = []
    hellos: list[tuple[str, float, int | None]] = []
    typing: list[dict[str, Any]] = []
    n = 0
    # Keep clients busy through the whole outage (this loop is the load, not a wait).
    while time.monotonic() - down_at < OUTAGE_S:
        n += 1
        node = nodes[n % 2]
        user = alice if n % 2 == 0 else bob_on_1
        user = User(node, user.id, user.email, user.password, user.access)
        answers += await rest_round(node.http, user, channel_id, n)
        hellos.append(await hello(node.ws, alice.access if n % 2 == 0 else guest))
        ack = await alice_device.request(
            "channel-typing", {"channelId": channel_id, "active": True}
        )
        typing.append(ack)
        status, _ = await ready(node.http)
        assert status == 503, "readiness must stay false while PostgreSQL is down"
    outage_s = time.monotonic() - down_at

    world.pg.start()
    back_at = time.monotonic()
    recovery_s = [await wait_ready(n.http, 200, RECOVERY_BOUND_S) for n in nodes]
    recovered_after_s = time.monotonic() - back_at

    # After recovery, without restarting anything: REST and live delivery work again.
    r = await alice.call(
        "POST", f"/api/channels/{channel_id}/messages", json={"text": "after", "clientId": "c" * 32}
    )
    assert r.status_code == 201, r.text
    await bob_device.take(
        lambda f: f.get("event") == "channel-message" and f["data"].get("text") == "after",
        "the message sent after recovery, pushed live to the other node",
        timeout=10,
    )
    r = await bob_on_1.call(
        "POST", "/api/auth/login", json={"email": bob.email, "password": bob.password}
    )
    assert r.status_code == 200, r.text
    welcome, _, _ = await hello(nodes[1].ws, bob.access)
    assert welcome == "welcome"

    statuses = Counter((a.what, a.status) for a in answers)
    hello_outcomes = Counter((h[0], h[2]) for h in hellos)
    typing_outcomes = Counter(
        "ok" if a.get("ok") else a.get("error", {}).get("code", "?") for a in typing
    )
    logs = [n.log()[start:] for n, start in zip(nodes, logs_before, strict=True)]
    lines = [fault_lines(log) for log in logs]
    print(
        f"\noutage {outage_s:.1f}s, {len(answers)} REST calls: {dict(statuses)}"
        f"\nREST ms median {statistics.median(a.ms for a in answers):.1f}"
        f" max {max(a.ms for a in answers):.1f}"
        f"\nhellos {dict(hello_outcomes)}, answered within max {max(h[1] for h in hellos):.2f}s"
        f"\ngateway channel-typing {dict(typing_outcomes)}"
        f"\nreadiness false after {max(unready_s):.2f}s, ready again {max(recovery_s):.2f}s"
        f" after restart ({recovered_after_s:.2f}s)"
        f"\nfault log lines per node {[len(x) for x in lines]}"
    )

    assert not [a for a in answers if a.status >= 500 and a.status != 503], statuses
    for a in answers:
        if a.status == 503:
            assert a.code == "unavailable", a
            assert (a.retry_after_ms or 0) > 0, a
            assert int(a.retry_after_header or 0) >= 1, a
    assert sum(1 for a in answers if a.status == 503) > 0, "the outage was felt"
    assert max(a.ms for a in answers) < REST_TIMEOUT_S * 1000
    for outcome, elapsed, close in hellos:
        assert elapsed <= HELLO_TIMEOUT_S + 2, (outcome, elapsed)
        assert outcome == "welcome" or (outcome == "unavailable" and close == 1013), (
            outcome,
            close,
        )
    assert all(a.get("ok") or a["error"]["code"] == "unavailable" for a in typing), typing
    assert not bob_device.closed.done(), "a socket open through the outage stays usable"
    for log, node_lines in zip(logs, lines, strict=True):
        assert "Traceback" not in log, log[:4000]
        assert "unexpected_error" not in log
        assert 1 <= len(node_lines) <= 2 + int(outage_s // 30) * 3, node_lines
    await bob_device.close()
    await alice_device.close()


async def test_unmigrated_schema_is_not_ready_answers_503_and_serve_refuses(world: World) -> None:
    from connect.storage.migrate import alembic_config

    node = world.cluster.nodes[0]
    await wait_ready(node.http, 200, 10)
    user = await new_user(node, "Carol")
    before = len(node.log())

    from alembic import command

    await asyncio.to_thread(command.downgrade, alembic_config(world.db_url), "base")
    try:
        await wait_ready(node.http, 503, 5)
        _, body = await ready(node.http)
        assert body["checks"]["schema"].startswith("error"), body
        r = await user.call("GET", "/api/auth/me")
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "unavailable"
        assert int(r.headers["retry-after"]) >= 1
        outcome, elapsed, close = await hello(node.ws, user.access)
        assert elapsed <= HELLO_TIMEOUT_S + 2
        assert outcome == "welcome" or close in (1011, 1013), (outcome, close)

        serve = node.cli("serve", "--port", str(free_port()))
        assert serve.returncode == 2, serve
        assert "connect migrate" in serve.stderr
        assert len(serve.stderr.splitlines()) == 1, serve.stderr
        assert "Traceback" not in serve.stderr + serve.stdout
        # Several housekeeping sweeps (0.5 s each) on the broken schema: at most a line or two.
        await wait_ready(node.http, 503, 5)
        window = time.monotonic() + 3
        while time.monotonic() < window:
            await ready(node.http)
            await asyncio.sleep(0.2)  # generating readiness traffic for a few sweeps
        log = node.log()[before:]
        assert "Traceback" not in log
        assert len(fault_lines(log)) <= 4, fault_lines(log)
    finally:
        await asyncio.to_thread(command.upgrade, alembic_config(world.db_url), "head")
    await wait_ready(node.http, 200, 10)


async def test_a_hung_postgres_is_answered_503_within_the_statement_bound(world: World) -> None:
    """PostgreSQL frozen (SIGSTOP, as a hung host or a partition): nothing waits for TCP."""
    from connect.storage.db import PG_COMMAND_TIMEOUT_S

    nodes = world.cluster.nodes
    for node in nodes:
        await wait_ready(node.http, 200, 10)
    user = await new_user(nodes[0], "Dave")
    r = await user.call("POST", "/api/channels", json={"userId": (await new_user(nodes[1])).id})
    channel_id = r.json()["id"]
    before = [len(n.log()) for n in nodes]
    bound_s = PG_COMMAND_TIMEOUT_S + 5
    pids = world.pg.pause()
    try:
        started = time.monotonic()
        rounds = await asyncio.gather(
            *(
                rest_round(
                    n.http, User(n, user.id, user.email, user.password, user.access), channel_id, i
                )
                for i, n in enumerate(nodes)
            ),
            *(hello(n.ws, user.access) for n in nodes),
            *(wait_ready(n.http, 503, 5) for n in nodes),
        )
        stalled_s = time.monotonic() - started
    finally:
        world.pg.resume(pids)
    resumed_at = time.monotonic()
    recovery_s = [await wait_ready(n.http, 200, RECOVERY_BOUND_S) for n in nodes]
    answers = [a for batch in rounds[: len(nodes)] for a in batch]
    hellos = rounds[len(nodes) : 2 * len(nodes)]
    r = await user.call("GET", "/api/channels")
    assert r.status_code == 200, r.text
    print(
        f"\nhung PostgreSQL: {len(answers)} REST calls {dict(Counter(a.status for a in answers))},"
        f" max {max(a.ms for a in answers):.0f} ms; hellos {hellos};"
        f" all answered in {stalled_s:.1f}s; ready again {max(recovery_s):.2f}s after SIGCONT"
        f" ({time.monotonic() - resumed_at:.2f}s)"
    )
    assert not [a for a in answers if a.status >= 500 and a.status != 503], answers
    assert all(a.ms < bound_s * 1000 for a in answers), answers
    for outcome, elapsed, close in hellos:  # type: ignore[misc]
        assert elapsed <= HELLO_TIMEOUT_S + 2, (outcome, elapsed)
        assert outcome == "welcome" or close == 1013, (outcome, close)
    for node, start in zip(nodes, before, strict=True):
        log = node.log()[start:]
        assert "Traceback" not in log, log[:4000]
        assert len(fault_lines(log)) <= 4, fault_lines(log)
