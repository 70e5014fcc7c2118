"""Health, logs, metrics and the domain event stream against real servers (Redis, NATS)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson

from tests.support.client import paired
from tests.support.http import loopback_client
from tests.support.server import Server, start_server
from tests.support.services import nats_server, redis_server


async def test_health_live_ready_detailed_and_request_ids(server: Server) -> None:
    async with loopback_client(base_url=server.http) as http:
        live = await http.get("/health/live")
        assert live.json() == {"status": "ok"}
        assert len(live.headers["x-request-id"]) == 16
        echoed = await http.get("/health/ready", headers={"X-Request-ID": "trace-abc-123"})
        assert echoed.headers["x-request-id"] == "trace-abc-123"
        checks = echoed.json()["checks"]
        assert checks["database"] == "ok"
        assert set(checks.values()) == {"ok"}
        bogus = await http.get("/health", headers={"X-Request-ID": "bad id with spaces"})
        assert bogus.headers["x-request-id"] != "bad id with spaces"
        detail = (await http.get("/health/detailed")).json()
    clustered = bool(server.env.get("CONNECT_REDIS_URL"))
    assert detail["backends"]["database"] == ("postgresql" if clustered else "sqlite")
    assert detail["backends"]["ephemeral"] == ("redis" if clustered else "memory")
    assert detail["uptimeS"] >= 0
    assert set(detail["connections"]) == {"live", "suspended"}
    process = detail["process"]
    assert set(process) == {"cpuSeconds", "residentMemoryBytes", "openFds", "maxFds"}
    assert process["residentMemoryBytes"] > 10_000_000
    assert 0 < process["openFds"] < process["maxFds"]
    # No TURN/STUN URL configured on this server: nothing probed, the probe is off.
    assert detail["turn"] == {"probeIntervalS": None, "servers": []}


async def test_logs_carry_request_ids_and_never_raw_client_addresses(
    tmp_path: Path,
) -> None:
    srv = start_server(tmp_path, {"CONNECT_LOG_LEVEL": "debug", "CONNECT_ENV": "dev"})
    try:
        a, b, _, _ = await paired(srv.ws, srv.http)
        await a.request("send-message", {"text": "secret words here"})
        await b.event("message")
        async with loopback_client(base_url=srv.http) as http:
            await http.get("/health/ready", headers={"X-Request-ID": "req-for-log-check"})
        await a.close()
        await b.close()
    finally:
        srv.stop()
    log = srv.log()
    request_lines = [line for line in log.splitlines() if "http_request" in line]
    assert any("req-for-log-check" in line for line in request_lines)
    assert all("ip_hash=" in line for line in request_lines)
    client_lines = [line for line in log.splitlines() if "Uvicorn running" not in line]
    assert not [line for line in client_lines if "127.0.0.1" in line], "a raw address was logged"
    assert "secret words here" not in log, "message text was logged"
    assert "connection_id=" in log


async def test_gateway_handling_time_histogram(server: Server) -> None:
    a, b, _, _ = await paired(server.ws, server.http)
    await a.request("typing", {"active": True})
    async with loopback_client(base_url=server.http) as http:
        text = (await http.get("/metrics")).text
    assert 'connect_event_handling_seconds_count{event="typing"}' in text
    assert "connect_http_requests_total{" in text
    await a.close()
    await b.close()


async def _session_events(srv: Server) -> None:
    a, b, _, _ = await paired(srv.ws, srv.http)
    await a.request("send-message", {"text": "never in the stream"})
    await b.event("message")
    await a.request("end-call")
    await b.event("peer-ended")
    await a.close()
    await b.close()


async def test_domain_events_reach_a_real_redis_stream(tmp_path: Path) -> None:
    import redis.asyncio as redis

    wanted = {"session.started", "message.sent", "session.ended"}
    with redis_server(tmp_path / "redis") as url:
        srv = start_server(
            tmp_path / "app", {"CONNECT_EVENT_SINK": "redis", "CONNECT_EVENT_SINK_URL": url}
        )
        try:
            await _session_events(srv)
            client = redis.Redis.from_url(url)
            payloads: list[dict[str, object]] = []
            last = "0"
            try:
                async with asyncio.timeout(10):
                    while not wanted <= {p["type"] for p in payloads}:
                        # XREAD BLOCK returns as soon as the app appends to the stream.
                        for _, entries in await client.xread({"connect-events": last}, block=2000):
                            for entry_id, fields in entries:
                                last = entry_id
                                payloads.append(orjson.loads(fields[b"event"]))
            finally:
                await client.aclose()
        finally:
            srv.stop()
    ended = next(p for p in payloads if p["type"] == "session.ended")
    assert ended["data"]["reason"] == "ended"  # type: ignore[index]
    assert ended["data"]["durationS"] >= 0  # type: ignore[index]
    assert "never in the stream" not in str(payloads)
    assert "127.0.0.1" not in str(payloads)


async def test_domain_events_reach_a_real_nats_jetstream(tmp_path: Path) -> None:
    import nats

    with nats_server(tmp_path / "nats") as url:
        srv = start_server(
            tmp_path / "app", {"CONNECT_EVENT_SINK": "nats", "CONNECT_EVENT_SINK_URL": url}
        )
        try:
            nc = await nats.connect(url)
            try:
                ended = asyncio.get_running_loop().create_future()

                async def on_event(msg: nats.aio.msg.Msg) -> None:
                    if orjson.loads(msg.data)["type"] == "session.ended" and not ended.done():
                        ended.set_result(None)

                await nc.subscribe("connect.events.>", cb=on_event)
                await _session_events(srv)
                async with asyncio.timeout(10):
                    await ended  # the app published (and created its stream) by now
                js = nc.jetstream()
                sub = await js.pull_subscribe(
                    "connect.events.>", durable="test", stream="connect-events"
                )
                msgs = await sub.fetch(100, timeout=5)
                seen = [orjson.loads(m.data)["type"] for m in msgs]
                for m in msgs:
                    await m.ack()
            finally:
                await nc.close()
        finally:
            srv.stop()
    assert {"session.started", "message.sent", "session.ended"} <= set(seen), "stored in JetStream"


async def test_a_dead_sink_never_breaks_the_hot_path(tmp_path: Path) -> None:
    """Events for a sink that is down are dropped and counted; matching and chat go on."""
    from tests.support.server import free_port

    dead = f"redis://127.0.0.1:{free_port()}/0"
    srv = start_server(
        tmp_path,
        {
            "CONNECT_EVENT_SINK": "redis",
            "CONNECT_EVENT_SINK_URL": dead,
            "CONNECT_EVENT_BUFFER": "10",
        },
    )
    try:
        for _ in range(8):
            await _session_events(srv)
        async with loopback_client(base_url=srv.http) as http:
            text = (await http.get("/metrics")).text
    finally:
        srv.stop()
    dropped = next(
        line
        for line in text.splitlines()
        if line.startswith('connect_events_dropped_total{sink="redis"}')
    )
    assert float(dropped.split()[-1]) > 0


def test_turn_config_matches_the_settings() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    env["CONNECT_TURN_URLS"] = (
        "turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349"
    )
    env["CONNECT_TURN_SECRET"] = "s3cret-turn-value-for-the-test-000000"
    done = subprocess.run(
        [sys.executable, "-m", "connect", "turn-config"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    conf = dict(
        line.split("=", 1)
        for line in done.stdout.splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert conf["static-auth-secret"] == "s3cret-turn-value-for-the-test-000000"
    assert conf["realm"] == "turn.example.org"
    assert conf["listening-port"] == "3478"
    assert conf["tls-listening-port"] == "5349"
    assert "allow-loopback-peers" not in done.stdout
    assert "denied-peer-ip=10.0.0.0-10.255.255.255" in done.stdout
    assert "denied-peer-ip=127.0.0.0-127.255.255.255" in done.stdout
    assert "prometheus" in done.stdout.splitlines()
    assert conf["prometheus-port"] == "9641"


def _value(text: str, series: str) -> float:
    """The sample of one exact series (name plus labels as rendered), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def _scrape(srv: Server) -> str:
    async with loopback_client(base_url=srv.http) as http:
        return (await http.get("/metrics")).text


async def test_process_and_session_duration_series(server: Server) -> None:
    """CPU, memory and descriptors of the process; a strangers session's length when it ends."""
    before = await _scrape(server)
    for series in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
    ):
        assert _value(before, series) > 0, series
    count = 'connect_session_duration_seconds_count{kind="strangers"}'
    a, b, _, _ = await paired(server.ws, server.http)
    live = await _scrape(server)
    assert _value(live, count) == _value(before, count), "observed only when it ends"
    await a.request("end-call")
    await b.event("peer-ended")
    after = await _scrape(server)
    assert _value(after, count) == _value(before, count) + 1
    assert 'connect_session_duration_seconds_bucket{kind="strangers",le="5.0"}' in after
    await a.close()
    await b.close()


async def test_active_calls_gauge_and_call_duration(server: Server) -> None:
    from tests.support.users import new_user

    alice, bob = await new_user(server, "Alice"), await new_user(server, "Bob")
    a_dev, b_dev = await alice.device(), await bob.device()
    before = await _scrape(server)
    r = await alice.call(
        "POST",
        "/api/calls",
        json={"calleeId": bob.id, "media": "audio", "connectionId": a_dev.welcome["connectionId"]},
    )
    assert r.status_code == 201, r.text
    call_id = r.json()["callId"]
    await b_dev.event("incoming-call")
    ringing = await _scrape(server)
    assert _value(ringing, "connect_calls_active") == _value(before, "connect_calls_active")
    accepted = await bob.call(
        "POST",
        f"/api/calls/{call_id}/respond",
        json={"accept": True, "connectionId": b_dev.welcome["connectionId"]},
    )
    assert accepted.status_code == 200, accepted.text
    during = await _scrape(server)
    assert _value(during, "connect_calls_active") == _value(before, "connect_calls_active") + 1
    ended = await bob.call("POST", f"/api/calls/{call_id}/end", json={"reason": "hangup"})
    assert ended.status_code == 200, ended.text
    after = await _scrape(server)
    assert _value(after, "connect_calls_active") == _value(before, "connect_calls_active")
    count = 'connect_session_duration_seconds_count{kind="call"}'
    assert _value(after, count) == _value(before, count) + 1
    await a_dev.close()
    await b_dev.close()


async def test_pending_reports_gauge_and_decisions_by_outcome(server: Server) -> None:
    from tests.support.staff import new_admin

    admin, _, _ = await new_admin(server)
    before = await _scrape(server)
    a, b, ma, _ = await paired(server.ws, server.http)
    async with loopback_client(base_url=server.http) as http:
        r = await http.post(
            "/api/reports",
            json={"sessionId": ma["sessionId"], "reason": "spam"},
            headers={"Authorization": f"Bearer {a.token}"},
        )
    assert r.status_code == 201, r.text
    filed = await _scrape(server)
    # The count is cached, but a change on this node is counted again on the next scrape.
    pending = "connect_reports_pending"
    assert _value(filed, pending) == _value(before, pending) + 1
    resolved = await admin.call(
        "POST", f"/api/admin/reports/{r.json()['id']}/resolve", json={"action": "reject"}
    )
    assert resolved.status_code == 200, resolved.text
    after = await _scrape(server)
    assert _value(after, pending) == _value(before, pending)
    rejected = 'connect_moderation_decisions_total{outcome="rejected"}'
    assert _value(after, rejected) == _value(before, rejected) + 1
    await a.close()
    await b.close()


async def test_metrics_still_answer_while_the_database_is_down(tmp_path: Path) -> None:
    """The pending-reports count is the scrape's one database read: an outage keeps its last
    value instead of failing /metrics (which would also fire ConnectTargetDown)."""
    from tests.support.services import create_database, postgres_server

    with postgres_server(tmp_path / "pg") as base:
        url = create_database(base, "connect_metrics_outage")
        # No housekeeping sweep during the test: the first count is the first scrape's,
        # made after PostgreSQL has stopped.
        srv = start_server(
            tmp_path / "app",
            {"CONNECT_DATABASE_URL": url, "CONNECT_MATCH_SWEEP_INTERVAL_S": "3600"},
        )
    try:
        async with loopback_client(base_url=srv.http) as http:
            ready = await http.get("/health/ready")
            down = await http.get("/metrics")
    finally:
        srv.stop()
    assert ready.status_code == 503, "the database really is down"
    assert down.status_code == 200, down.text[:500]
    assert "connect_reports_pending 0.0" in down.text
    assert "process_resident_memory_bytes" in down.text


async def test_appeal_decisions_are_counted_by_outcome(server: Server) -> None:
    from tests.support.staff import new_admin

    admin, _, _ = await new_admin(server)
    a, b, ma, _ = await paired(server.ws, server.http)
    async with loopback_client(base_url=server.http) as http:
        r = await http.post(
            "/api/reports",
            json={"sessionId": ma["sessionId"], "reason": "harassment"},
            headers={"Authorization": f"Bearer {a.token}"},
        )
    assert r.status_code == 201, r.text
    before = await _scrape(server)
    resolved = await admin.call(
        "POST",
        f"/api/admin/reports/{r.json()['id']}/resolve",
        json={"action": "accept", "ban": {"durationHours": 1, "scope": ["device"]}},
    )
    assert resolved.status_code == 200, resolved.text
    banned = await b.event("banned")
    async with loopback_client(base_url=server.http) as http:
        appeal = await http.post(
            "/api/appeals", json={"appealToken": banned["appeal"]["token"], "text": "sorry"}
        )
    assert appeal.status_code == 201, appeal.text
    decided = await admin.call(
        "POST", f"/api/admin/appeals/{appeal.json()['id']}", json={"decision": "reject"}
    )
    assert decided.status_code == 200, decided.text
    after = await _scrape(server)
    for outcome, delta in (("accepted", 1), ("appeal_rejected", 1), ("appeal_accepted", 0)):
        series = f'connect_moderation_decisions_total{{outcome="{outcome}"}}'
        assert _value(after, series) == _value(before, series) + delta, outcome
    await a.close()
