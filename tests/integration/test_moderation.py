"""Moderation end to end over real HTTP and WebSockets: roles, reports, bans, appeals, audit."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping

import httpx
import jwt
import pytest

from connect.settings import DEV_JWT_SECRET
from tests.support.client import Peer, guest_token, new_device, paired
from tests.support.http import loopback_client
from tests.support.server import Server
from tests.support.staff import StaffClient, new_admin, new_moderator

TINY_JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9").decode()

ADMIN_ROUTES = [
    ("GET", "/api/admin/stats", None),
    ("GET", "/api/admin/sessions", None),
    ("GET", "/api/admin/reports", None),
    ("GET", "/api/admin/reports/00000000000000000000000000000000", None),
    ("GET", "/api/admin/reports/00000000000000000000000000000000/evidence", None),
    ("POST", "/api/admin/reports/00000000000000000000000000000000/resolve", {"action": "reject"}),
    ("GET", "/api/admin/bans", None),
    ("POST", "/api/admin/bans", {"scope": "device", "value": "devicexyz", "reason": "x"}),
    ("DELETE", "/api/admin/bans/00000000000000000000000000000000", None),
    ("POST", "/api/admin/warnings", {"subject": "devicexyz", "message": "hi"}),
    ("GET", "/api/admin/appeals", None),
    ("POST", "/api/admin/appeals/00000000000000000000000000000000", {"decision": "reject"}),
    ("GET", "/api/admin/audit-log", None),
    ("GET", "/api/admin/audit-log/verify", None),
    ("GET", "/api/admin/staff", None),
    (
        "POST",
        "/api/admin/staff",
        {
            "email": "x@example.test",
            "password": "0123456789ab",
            "displayName": "x",
            "role": "admin",
        },
    ),
]


@pytest.fixture(scope="module")
def mod_server(make_server: Callable[[Mapping[str, str]], Server]) -> Server:
    return make_server({"CONNECT_AUTOSUSPEND_REPORTERS": "3", "CONNECT_RATE_REPORT": "1000/hour"})


@pytest.fixture(scope="module")
async def admin(mod_server: Server) -> StaffClient:
    client, _, _ = await new_admin(mod_server)
    return client


async def _as(
    server: Server, method: str, path: str, body: object, headers: dict[str, str]
) -> httpx.Response:
    async with loopback_client(base_url=server.http) as http:
        return await http.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
async def test_every_admin_route_refuses_without_the_role(
    mod_server: Server, admin: StaffClient, method: str, path: str, body: object
) -> None:
    srv = mod_server
    assert (await _as(srv, method, path, body, {})).status_code == 401
    guest = await guest_token(srv.http)
    r = await _as(srv, method, path, body, {"Authorization": f"Bearer {guest}"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    forged = jwt.encode(
        {
            "sub": "someone",
            "typ": "access",
            "rol": "admin",
            "iat": int(time.time()),
            "exp": int(time.time()) + 600,
        },
        "not-the-server-secret-0123456789abcdef",
        "HS256",
    )
    assert (
        await _as(srv, method, path, body, {"Authorization": f"Bearer {forged}"})
    ).status_code == 401
    unknown_admin = jwt.encode(
        {
            "sub": "0" * 32,
            "typ": "access",
            "rol": "admin",
            "iat": int(time.time()),
            "exp": int(time.time()) + 600,
        },
        DEV_JWT_SECRET,
        "HS256",
    )
    assert (
        await _as(srv, method, path, body, {"Authorization": f"Bearer {unknown_admin}"})
    ).status_code == 401
    if path.startswith("/api/admin/staff"):
        moderator = await new_moderator(srv, admin)
        r = await _as(srv, method, path, body, moderator.headers)
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "forbidden"


async def test_report_accept_ban_kicks_live_socket_then_appeal_restores(
    mod_server: Server, admin: StaffClient
) -> None:
    srv = mod_server
    moderator = await new_moderator(srv, admin)
    a, b, ma, _ = await paired(srv.ws, srv.http)
    await b.request("send-message", {"text": "something nasty"})
    await a.event("message")
    async with loopback_client(base_url=srv.http) as http:
        r = await http.post(
            "/api/reports",
            json={
                "sessionId": ma["sessionId"],
                "reason": "harassment",
                "comment": "insults",
                "evidence": TINY_JPEG,
            },
            headers={"Authorization": f"Bearer {a.token}"},
        )
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]

    queue = (await moderator.call("GET", "/api/admin/reports?status=pending&limit=200")).json()[
        "reports"
    ]
    mine = next(x for x in queue if x["id"] == report_id)
    created = [x["createdAt"] for x in queue]
    assert created == sorted(created), "oldest first"
    assert mine["reason"] == "harassment"
    assert mine["comment"] == "insults"
    assert mine["session"]["mode"] == "video"
    assert mine["hasEvidence"] is True
    assert mine["transcript"][0]["text"] == "something nasty"
    assert mine["transcript"][0]["from"] == mine["reportedPeerId"]
    b_device = jwt.decode(b.token, options={"verify_signature": False})["sub"]
    assert mine["reported"]["subject"] == f"guest:{b_device}"
    assert "127.0.0.1" not in str(mine), "moderators never see raw IPs"
    evidence = await moderator.call("GET", f"/api/admin/reports/{report_id}/evidence")
    assert evidence.status_code == 200
    assert evidence.headers["content-type"] == "image/jpeg"
    assert evidence.content.startswith(b"\xff\xd8\xff")

    r = await moderator.call(
        "POST",
        f"/api/admin/reports/{report_id}/resolve",
        json={
            "action": "accept",
            "ban": {"durationHours": None, "scope": ["device"]},
            "note": "clear abuse",
        },
    )
    assert r.status_code == 200, r.text
    [ban] = r.json()["bans"]
    assert ban["active"] is True
    assert ban["expiresAt"] is None

    banned = await b.event("banned")
    assert banned["until"] is None
    assert banned["appeal"]["banId"] == ban["id"]
    assert (await b.wait_closed())[0] == 4003
    assert await a.event("peer-ended") == {"reason": "banned"}

    again = await moderator.call(
        "POST", f"/api/admin/reports/{report_id}/resolve", json={"action": "reject"}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_resolved"

    async with loopback_client(base_url=srv.http) as http:
        refused = await http.post("/api/auth/token", json={"deviceId": b_device})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "banned"
        assert refused.json()["ban"]["appeal"]["banId"] == ban["id"]
    relog = await Peer.connect(srv.ws, b.token, hello=False)
    await relog.emit("hello", {"token": b.token})
    assert (await relog.event("banned"))["appeal"]["banId"] == ban["id"]
    assert (await relog.wait_closed())[0] == 4003

    async with loopback_client(base_url=srv.http) as http:
        appeal = await http.post(
            "/api/appeals", json={"appealToken": banned["appeal"]["token"], "text": "sorry"}
        )
        assert appeal.status_code == 201, appeal.text
        twice = await http.post(
            "/api/appeals", json={"appealToken": banned["appeal"]["token"], "text": "again"}
        )
        assert twice.status_code == 409
        assert twice.json()["error"]["code"] == "already_appealed"
    appeals = (await moderator.call("GET", "/api/admin/appeals")).json()["appeals"]
    mine_appeal = next(x for x in appeals if x["id"] == appeal.json()["id"])
    assert mine_appeal["ban"]["id"] == ban["id"]
    decided = await moderator.call(
        "POST", f"/api/admin/appeals/{mine_appeal['id']}", json={"decision": "accept", "note": "ok"}
    )
    assert decided.status_code == 200
    assert decided.json()["ban"]["active"] is False

    token = await guest_token(srv.http, b_device)
    back = await Peer.connect(srv.ws, token)
    assert back.welcome["connectionId"]
    await back.close()
    await a.close()

    async with loopback_client(base_url=srv.http) as http:
        late = await http.post(
            "/api/appeals", json={"appealToken": banned["appeal"]["token"], "text": "x"}
        )
    assert late.status_code == 409
    log = (await moderator.call("GET", "/api/admin/audit-log?limit=50")).json()["entries"]
    actions = [e["action"] for e in log]
    assert {"report.accept", "ban.create", "appeal.accept", "ban.lift"} <= set(actions)
    check = (await moderator.call("GET", "/api/admin/audit-log/verify")).json()
    assert check["ok"] is True
    assert check["checked"] >= 4


async def test_bad_moderation_input_changes_nothing(mod_server: Server, admin: StaffClient) -> None:
    srv = mod_server
    a, b, ma, _ = await paired(srv.ws, srv.http)
    async with loopback_client(base_url=srv.http) as http:
        auth = {"Authorization": f"Bearer {a.token}"}
        big = base64.b64encode(b"\xff\xd8\xff" + b"\x00" * 400_000 + b"\xff\xd9").decode()
        r = await http.post(
            "/api/reports",
            json={"sessionId": ma["sessionId"], "reason": "spam", "evidence": big},
            headers=auth,
        )
        assert r.status_code == 413
        png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50).decode()
        r = await http.post(
            "/api/reports",
            json={"sessionId": ma["sessionId"], "reason": "spam", "evidence": png},
            headers=auth,
        )
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "invalid_evidence"
        r = await http.post(
            "/api/reports", json={"sessionId": ma["sessionId"], "reason": "rude"}, headers=auth
        )
        assert r.status_code == 400
    queue = (await admin.call("GET", "/api/admin/reports?limit=200")).json()["reports"]
    assert not [x for x in queue if x["sessionId"] == ma["sessionId"]], (
        "refused reports left nothing behind"
    )

    assert (await admin.call("GET", "/api/admin/reports/" + "f" * 32)).status_code == 404
    r = await admin.call(
        "POST", "/api/admin/reports/" + "f" * 32 + "/resolve", json={"action": "accept"}
    )
    assert r.status_code == 404
    r = await admin.call(
        "POST",
        "/api/admin/bans",
        json={"scope": "account", "value": "x", "reason": "r", "durationHours": -1},
    )
    assert r.status_code == 400
    me = (await admin.call("GET", "/api/auth/me")).json()
    r = await admin.call(
        "POST", "/api/admin/bans", json={"scope": "account", "value": me["id"], "reason": "r"}
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "cannot_ban_staff"
    r = await admin.call("DELETE", "/api/admin/bans/" + "e" * 32)
    assert r.status_code == 404
    r = await admin.call(
        "POST", "/api/admin/bans", json={"scope": "device", "value": new_device(), "reason": "test"}
    )
    ban_id = r.json()["id"]
    assert (await admin.call("DELETE", f"/api/admin/bans/{ban_id}")).status_code == 200
    assert (await admin.call("DELETE", f"/api/admin/bans/{ban_id}")).status_code == 409
    async with loopback_client(base_url=srv.http) as http:
        r = await http.post(
            "/api/appeals",
            json={"banId": ban_id, "text": "x"},
            headers={"Authorization": f"Bearer {a.token}"},
        )
        assert r.status_code in (403, 409)
        r = await http.post("/api/appeals", json={"appealToken": "garbage", "text": "x"})
        assert r.status_code == 401
    await a.close()
    await b.close()


async def test_three_distinct_reporters_auto_suspend_a_device(
    mod_server: Server, admin: StaffClient
) -> None:
    srv = mod_server
    target_device = new_device()
    target = await Peer.connect(srv.ws, await guest_token(srv.http, target_device))
    tag = [new_device()]
    for i in range(3):
        reporter = await Peer.connect(srv.ws, await guest_token(srv.http))
        await target.request("join-queue", {"mode": "text", "interests": tag})
        await reporter.request("join-queue", {"mode": "text", "interests": tag})
        matched = await reporter.event("matched")
        await target.event("matched")
        async with loopback_client(base_url=srv.http) as http:
            r = await http.post(
                "/api/reports",
                json={"sessionId": matched["sessionId"], "reason": "spam"},
                headers={"Authorization": f"Bearer {reporter.token}"},
            )
            assert r.status_code == 201
        if i < 2:
            await reporter.request("end-call")
            await target.event("peer-ended")
        await reporter.close()
    suspended = await target.event("banned")
    assert "pending review" in suspended["reason"], "the English reason stays (a fallback)"
    # The server worded it, so it says it as a code for the visitor's language.
    coded = (suspended["reasonCode"], suspended["reasonParams"])
    assert coded == ("auto_reported", {"reporters": 3})
    assert suspended["until"] is not None
    assert (await target.wait_closed())[0] == 4003
    refused = (await guest_token_response(srv, target_device)).json()["ban"]
    assert (refused["reasonCode"], refused["reasonParams"]) == coded
    bans = (await admin.call("GET", f"/api/admin/bans?query={target_device}")).json()["bans"]
    assert bans[0]["automatic"] is True
    assert (bans[0]["reasonCode"], bans[0]["reasonParams"]) == coded
    staff_ban = await admin.call(
        "POST",
        "/api/admin/bans",
        json={"scope": "device", "value": new_device(), "reason": "reported by 3 people"},
    )
    assert "reasonCode" not in staff_ban.json(), "a moderator's words are shown as typed"


async def guest_token_response(srv: Server, device: str) -> httpx.Response:
    async with loopback_client(base_url=srv.http) as http:
        return await http.post("/api/auth/token", json={"deviceId": device})


async def test_staff_login_refresh_rotation_and_reuse_revokes_family(mod_server: Server) -> None:
    srv = mod_server
    _, email, password = await new_admin(srv)
    async with loopback_client(base_url=srv.http) as http:
        wrong = await http.post(
            "/api/auth/login", json={"email": email, "password": "wrong-password"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "invalid_credentials"
        nobody = await http.post(
            "/api/auth/login", json={"email": "nobody@example.test", "password": "whatever"}
        )
        assert nobody.status_code == 401
        first = (
            await http.post("/api/auth/login", json={"email": email.upper(), "password": password})
        ).json()
        second = await http.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
        assert second.status_code == 200
        reuse = await http.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
        assert reuse.status_code == 401
        assert reuse.json()["error"]["code"] == "refresh_reused"
        after = await http.post(
            "/api/auth/refresh", json={"refreshToken": second.json()["refreshToken"]}
        )
        assert after.status_code == 401, "the whole family was revoked"
        me = await http.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {second.json()['accessToken']}"}
        )
        assert me.status_code == 401, "reuse ends the login's access tokens at once, too"
        fresh = await http.post("/api/auth/login", json={"email": email, "password": password})
        me = await http.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {fresh.json()['accessToken']}"}
        )
        assert me.json()["role"] == "admin"


async def test_audit_verify_cli_finds_tampering(mod_server: Server, admin: StaffClient) -> None:
    import sqlite3

    srv = mod_server
    await admin.call(
        "POST",
        "/api/admin/bans",
        json={"scope": "device", "value": new_device(), "reason": "for audit"},
    )
    ok = srv.cli("audit-verify")
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    db = sqlite3.connect(srv.data_dir / "connect.db")
    seq = db.execute("SELECT seq FROM audit_log ORDER BY seq LIMIT 1 OFFSET 1").fetchone()[0]
    db.execute('UPDATE audit_log SET details = \'{"reason": "edited"}\' WHERE seq = ?', (seq,))
    db.commit()
    broken = srv.cli("audit-verify")
    assert broken.returncode == 1
    assert f"BROKEN at entry {seq}" in broken.stderr
    check = (await admin.call("GET", "/api/admin/audit-log/verify")).json()
    assert check == {**check, "ok": False, "firstBrokenSeq": seq}
    db.execute("DELETE FROM audit_log")
    db.commit()
    db.close()


async def test_warning_reaches_the_live_visitor(mod_server: Server, admin: StaffClient) -> None:
    device = new_device()
    peer = await Peer.connect(mod_server.ws, await guest_token(mod_server.http, device))
    r = await admin.call(
        "POST", "/api/admin/warnings", json={"subject": device, "message": "keep it civil"}
    )
    assert r.json() == {"delivered": 1}
    assert await peer.event("warning") == {"message": "keep it civil"}
    await peer.close()
