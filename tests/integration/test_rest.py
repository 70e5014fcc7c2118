"""REST endpoints: tokens, ICE config, health, metrics, and the error shape for bad input."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

import pytest

from tests.support.client import Peer, guest_token, paired
from tests.support.http import loopback_client
from tests.support.server import Server

TURN_SECRET = "integration-turn-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def turn_server(make_server: Callable[[Mapping[str, str]], Server]) -> Server:
    return make_server(
        {
            "CONNECT_TURN_SECRET": TURN_SECRET,
            "CONNECT_TURN_URLS": "turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp",
            "CONNECT_STUN_URLS": "stun:127.0.0.1:3478",
        }
    )


async def test_guest_token_is_a_five_minute_jwt(server: Server) -> None:
    import jwt

    async with loopback_client(base_url=server.http) as http:
        r = await http.post("/api/auth/token", json={"deviceId": "device_ABC-123"})
    assert r.status_code == 200
    body = r.json()
    assert body["expiresIn"] == 300
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == "device_ABC-123"
    assert claims["exp"] - claims["iat"] == 300
    assert "127.0.0.1" not in str(claims), "only the salted IP hash is recorded"
    assert len(claims["iph"]) == 32


async def test_the_token_route_answers_like_every_api_route(server: Server) -> None:
    """POST /api/auth/token is served before FastAPI (connect.identity.token_route): its
    answer still carries the request id, the security headers and the route's metrics."""
    async with loopback_client(base_url=server.http) as http:
        r = await http.post(
            "/api/auth/token",
            json={"deviceId": "device_headers_1"},
            headers={"x-request-id": "req-token-route-1"},
        )
        metrics = (await http.get("/metrics")).text
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-request-id"] == "req-token-route-1"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert 'connect_http_requests_total{route="/api/auth/token",status="200"}' in metrics


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"deviceId": "short"},
        {"deviceId": "has spaces in it"},
        {"deviceId": "x" * 65},
        {"deviceId": 12345678},
        {"deviceId": "validdevice", "extra": 1},
        {"deviceId": "ünïcødé-device"},
    ],
)
async def test_bad_device_ids_are_refused(server: Server, body: dict[str, object]) -> None:
    async with loopback_client(base_url=server.http) as http:
        r = await http.post("/api/auth/token", json=body)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_request"


async def test_not_json_unknown_route_wrong_method_and_oversize(server: Server) -> None:
    async with loopback_client(base_url=server.http) as http:
        r = await http.post(
            "/api/auth/token", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "invalid_request"
        r = await http.get("/api/nope")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
        r = await http.get("/api/auth/token")
        assert r.status_code == 405
        assert r.json()["error"]["code"] == "method_not_allowed"
        r = await http.post("/api/auth/token", json={"deviceId": "d" * 100_000})
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "payload_too_large"


async def test_ice_config_mints_turn_rest_credentials(turn_server: Server) -> None:
    token = await guest_token(turn_server.http, "device_turn_1")
    async with loopback_client(base_url=turn_server.http) as http:
        assert (await http.get("/api/ice-config")).status_code == 401
        for r in (
            await http.get("/api/ice-config", headers={"Authorization": f"Bearer {token}"}),
            await http.post("/api/turn/credentials", headers={"Authorization": f"Bearer {token}"}),
        ):
            assert r.status_code == 200
            cfg = r.json()
            assert cfg["ttl"] == 3600
            stun, turn = cfg["iceServers"]
            assert stun == {"urls": ["stun:127.0.0.1:3478"]}
            expiry, subject = turn["username"].split(":", 1)
            assert subject == "device_turn_1"
            assert abs(int(expiry) - (time.time() + 3600)) < 60
            digest = hmac.new(
                TURN_SECRET.encode(), turn["username"].encode(), hashlib.sha1
            ).digest()
            assert turn["credential"] == base64.b64encode(digest).decode()


async def test_matched_carries_turn_credentials(turn_server: Server) -> None:
    a, b, ma, mb = await paired(turn_server.ws, turn_server.http)
    for m in (ma, mb):
        turn = m["iceServers"][1]
        assert turn["username"]
        assert turn["credential"]
    assert ma["iceServers"][1]["username"] != mb["iceServers"][1]["username"], (
        "minted per recipient"
    )
    await a.close()
    await b.close()


async def test_health_ready_and_metrics(server: Server) -> None:
    a, b, _, _ = await paired(server.ws, server.http)
    await a.request("send-offer", {"offer": {"type": "offer", "sdp": "v=0"}})
    await b.event("offer")
    await a.request("no-such-event")
    async with loopback_client(base_url=server.http) as http:
        assert (await http.get("/health")).json() == {"status": "ok"}
        ready = await http.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database"] == "ok"
        text = (await http.get("/metrics")).text
    for series in (
        "connect_connections_active",
        'connect_queue_waiting{mode="video"}',
        'connect_matches_total{mode="video"}',
        'connect_match_wait_seconds_bucket{le="0.05",mode="video"}',
        'connect_signaling_relayed_total{type="offer"}',
        'connect_errors_total{code="unknown_event"}',
        "connect_sessions_live",
    ):
        assert series in text, series
    live = next(
        line for line in text.splitlines() if line.startswith("connect_connections_active ")
    )
    assert float(live.split()[1]) >= 2
    await a.close()
    await b.close()


async def test_expired_token_is_refused_at_hello(
    make_server: Callable[[Mapping[str, str]], Server],
) -> None:
    import jwt

    from connect.settings import DEV_JWT_SECRET

    srv = make_server({})
    now = int(time.time())
    expired = jwt.encode(
        {"sub": "device_old", "typ": "guest", "iat": now - 400, "exp": now - 100},
        DEV_JWT_SECRET,
        "HS256",
    )
    peer = await Peer.connect(srv.ws, None, hello=False)
    await peer.emit("hello", {"token": expired})
    assert (await peer.event("error"))["code"] == "token_expired"
    assert (await peer.wait_closed())[0] == 4001


async def test_web_app_paths_never_fail_with_500(server: Server) -> None:
    from connect.app import STATIC_DIR

    built = (STATIC_DIR / "index.html").exists()
    async with loopback_client(base_url=server.http) as http:
        index = await http.get("/")
        missing = await http.get("/favicon-that-does-not-exist.ico")
    assert index.status_code == (200 if built else 503)
    assert "text/html" in index.headers["content-type"]
    assert missing.status_code == (404 if built else 503)
