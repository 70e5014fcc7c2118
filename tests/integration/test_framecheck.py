"""Frame moderation over real HTTP and WebSockets, on both backends.

The server runs the test-only classifier (``test-colour``: how red the mean
colour of the really decoded JPEG is) in its real process pool, with review
at 0.3 and action at 0.7; frames are drawn by tests.support.frames.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS, backend_settings
from tests.support import frames
from tests.support.client import Peer, guest_token
from tests.support.faults import until
from tests.support.http import loopback_client
from tests.support.server import Server
from tests.support.staff import StaffClient, new_admin, new_moderator
from tests.support.users import new_user

SETTINGS = {
    "CONNECT_FRAMECHECK_ENABLED": "true",
    "CONNECT_FRAMECHECK_CLASSIFIER": "test-colour",
    "CONNECT_FRAMECHECK_REVIEW_THRESHOLD": "0.3",
    "CONNECT_FRAMECHECK_ACTION_THRESHOLD": "0.7",
    "CONNECT_FRAMECHECK_FIRST_AFTER_MS": "1500",
    "CONNECT_FRAMECHECK_MEAN_INTERVAL_MS": "20000",
    "CONNECT_RATE_FRAMES": "1000/minute",
    "CONNECT_RATE_REPORT": "1000/hour",
}


@pytest.fixture(scope="module", params=BACKENDS)
def fc_server(
    request: pytest.FixtureRequest, make_server: Callable[[Mapping[str, str]], Server]
) -> Server:
    overrides = dict(SETTINGS)
    if request.param != "memory-sqlite":
        overrides.update(
            backend_settings(request.param, request.getfixturevalue("backing_services"))
        )
    return make_server(overrides)


@pytest.fixture(scope="module")
async def admin(fc_server: Server) -> StaffClient:
    client, _, _ = await new_admin(fc_server)
    return client


async def pair(
    srv: Server, a_token: str | None = None, mode: str = "video"
) -> tuple[Peer, Peer, dict[str, Any], dict[str, Any]]:
    a = await Peer.connect(srv.ws, a_token or await guest_token(srv.http))
    b = await Peer.connect(srv.ws, await guest_token(srv.http))
    tag = secrets.token_hex(6)
    assert (await a.request("join-queue", {"mode": mode, "interests": [tag]}))["ok"]
    assert (await b.request("join-queue", {"mode": mode, "interests": [tag]}))["ok"]
    return a, b, await a.event("matched"), await b.event("matched")


async def send_frame(
    srv: Server,
    token: str | None,
    session_id: str,
    body: bytes,
    content_type: str = "image/jpeg",
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with loopback_client(base_url=srv.http) as http:
        return await http.post(
            f"/api/strangers/sessions/{session_id}/frames", content=body, headers=headers
        )


async def auto_report(admin: StaffClient, session_id: str) -> dict[str, Any] | None:
    r = await admin.call("GET", "/api/admin/reports", params={"status": "pending", "limit": 200})
    assert r.status_code == 200
    for report in r.json()["reports"]:
        if report["sessionId"] == session_id and report["source"] == "auto":
            return dict(report)
    return None


async def test_matched_carries_the_sampling_policy_for_video_only(fc_server: Server) -> None:
    a, b, ma, mb = await pair(fc_server)
    expected = {"firstAfterMs": 1500, "meanIntervalMs": 20000, "maxWidth": 320, "jpegQuality": 0.7}
    assert ma["frameCheck"] == expected
    assert mb["frameCheck"] == expected
    c, d, mc, _ = await pair(fc_server, mode="text")
    assert "frameCheck" not in mc
    # ...and a text session's frames are refused: nothing is sampled there.
    r = await send_frame(fc_server, c.token, mc["sessionId"], frames.GREY)
    assert r.status_code == 403
    for peer in (a, b, c, d):
        await peer.close()


async def test_no_frame_check_unless_enabled(server: Server) -> None:
    a, b, ma, _ = await pair(server)
    assert "frameCheck" not in ma
    r = await send_frame(server, a.token, ma["sessionId"], frames.GREY)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    await a.close()
    await b.close()


async def test_who_may_send_a_frame_and_what(fc_server: Server, admin: StaffClient) -> None:
    srv = fc_server
    a, b, ma, _ = await pair(srv)
    sid = ma["sessionId"]
    ok = await send_frame(srv, a.token, sid, frames.GREY)
    assert ok.status_code == 202, ok.text
    assert ok.json() == {"queued": True}
    assert (await send_frame(srv, b.token, sid, frames.GREY)).status_code == 202
    # No token; a stranger's token; the member of another session.
    assert (await send_frame(srv, None, sid, frames.GREY)).status_code == 401
    outsider = await guest_token(srv.http)
    r = await send_frame(srv, outsider, sid, frames.GREY)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    c, d, mc, _ = await pair(srv)
    assert (await send_frame(srv, c.token, sid, frames.GREY)).status_code == 403
    assert (await send_frame(srv, c.token, mc["sessionId"], frames.GREY)).status_code == 202
    # Unknown session, malformed id.
    assert (await send_frame(srv, a.token, secrets.token_hex(16), frames.GREY)).status_code == 404
    assert (await send_frame(srv, a.token, "not-a-session", frames.GREY)).status_code == 400
    # Not a JPEG, a broken JPEG, the wrong type, too large.
    for body, ctype in (
        (b"GIF89a" + b"\x00" * 100, "image/jpeg"),
        (frames.GREY[: len(frames.GREY) // 2], "image/jpeg"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9", "image/jpeg"),
        (frames.GREY, "image/png"),
        (b"", "image/jpeg"),
    ):
        r = await send_frame(srv, a.token, sid, body, ctype)
        assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_frame"), body[:8]
    big = frames.solid((90, 120, 150), size=(1600, 1200), quality=100) + b"\x00" * 70_000
    r = await send_frame(srv, a.token, sid, big)
    assert r.status_code == 413
    # An account visitor sends frames like a guest.
    user = await new_user(srv, "Framer")
    e, f, me, _ = await pair(srv, a_token=user.access)
    assert (await send_frame(srv, user.access, me["sessionId"], frames.GREY)).status_code == 202
    # The session ended: 409.
    assert (await a.request("end-call", {}))["ok"]
    await b.event("peer-ended")
    r = await send_frame(srv, a.token, sid, frames.GREY)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "session_ended")
    # Banned: refused like on every route.
    r = await admin.call(
        "POST",
        "/api/admin/bans",
        json={"scope": "account", "value": user.id, "reason": "test", "durationHours": 1},
    )
    assert r.status_code == 201, r.text
    r = await send_frame(srv, user.access, me["sessionId"], frames.GREY)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "banned")
    for peer in (a, b, c, d, e, f):
        await peer.close()


async def test_frames_are_rate_limited_per_visitor(
    make_server: Callable[[Mapping[str, str]], Server],
) -> None:
    srv = make_server({**SETTINGS, "CONNECT_RATE_FRAMES": "3/minute"})
    a, b, ma, _ = await pair(srv)
    for _ in range(3):
        assert (await send_frame(srv, a.token, ma["sessionId"], frames.GREY)).status_code == 202
    r = await send_frame(srv, a.token, ma["sessionId"], frames.GREY)
    assert r.status_code == 429
    assert r.json()["retryAfterMs"] > 0
    # Per visitor: the partner still may.
    assert (await send_frame(srv, b.token, ma["sessionId"], frames.GREY)).status_code == 202
    await a.close()
    await b.close()


async def pending_reports(srv: Server) -> float:
    async with loopback_client(base_url=srv.http) as http:
        text = (await http.get("/metrics")).text
    found = re.search(r"^connect_reports_pending (\S+)$", text, re.MULTILINE)
    assert found is not None, "connect_reports_pending is not exported"
    return float(found.group(1))


async def test_a_flagged_frame_hides_the_video_and_files_an_auto_report(
    fc_server: Server, admin: StaffClient
) -> None:
    srv = fc_server
    a, b, ma, mb = await pair(srv)
    sid = ma["sessionId"]
    pending_before = await pending_reports(srv)
    assert (await send_frame(srv, a.token, sid, frames.RED)).status_code == 202
    hidden = await b.event("video-hidden", timeout=20)
    assert hidden == {"sessionId": sid, "reason": "nudity"}
    flagged = await a.event("video-flagged")
    assert flagged == {"sessionId": sid, "reason": "nudity"}
    assert a.events("video-hidden") == []
    assert b.events("video-flagged") == []

    report: dict[str, Any] | None = None

    async def filed() -> bool:
        nonlocal report
        report = await auto_report(admin, sid)
        return report is not None

    await until(filed, 10, "the automatic report is in the queue")
    assert report is not None
    assert report["reason"] == "nudity"
    assert report["source"] == "auto"
    assert report["scores"]["TEST_RED"] > 0.7
    assert report["falsePositive"] is False
    assert report["hasEvidence"] is True
    assert report["reported"]["subject"] != report["reporter"]["subject"]
    assert report["reportedPeerId"] == mb["peerId"]  # a's id as b knows it
    # The cached pending count is recounted on the next scrape after an automatic report too.
    assert await pending_reports(srv) == pending_before + 1
    evidence = await admin.call("GET", f"/api/admin/reports/{report['id']}/evidence")
    assert evidence.status_code == 200
    assert evidence.content == frames.RED
    # One automatic report per session and member, however many frames hit.
    assert (await send_frame(srv, a.token, sid, frames.RED)).status_code == 202
    await b.event("video-hidden", timeout=20)  # the second frame was classified too
    r = await admin.call("GET", "/api/admin/reports", params={"status": "pending", "limit": 200})
    autos = [x for x in r.json()["reports"] if x["sessionId"] == sid and x["source"] == "auto"]
    assert len(autos) == 1

    # Marking it wrong: staff only, audited, once; never a visitor's report.
    path = f"/api/admin/reports/{report['id']}/false-positive"
    async with loopback_client(base_url=srv.http) as http:
        assert (await http.post(path)).status_code == 401
        guest = await guest_token(srv.http)
        r = await http.post(path, headers={"Authorization": f"Bearer {guest}"})
        assert r.status_code == 401
    moderator = await new_moderator(srv, admin)
    r = await moderator.call("POST", path)
    assert r.status_code == 200, r.text
    assert r.json()["falsePositive"] is True
    assert r.json()["source"] == "auto"
    again = await moderator.call("POST", path)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_marked")
    shown = await admin.call("GET", f"/api/admin/reports/{report['id']}")
    assert shown.json()["falsePositive"] is True
    audit = await admin.call("GET", "/api/admin/audit-log", params={"limit": 50})
    assert any(
        e["action"] == "report.false_positive" and e["targetId"] == report["id"]
        for e in audit.json()["entries"]
    ), audit.json()["entries"][:3]
    async with loopback_client(base_url=srv.http) as http:
        metrics = (await http.get("/metrics")).text
    assert 'connect_framecheck_false_positives_total{label="TEST_RED"}' in metrics
    assert 'connect_framecheck_actions_total{action="hide",label="TEST_RED"}' in metrics

    # A visitor's own report is not automatic.
    c, d, mc, _ = await pair(srv)
    async with loopback_client(base_url=srv.http) as http:
        r = await http.post(
            "/api/reports",
            json={"sessionId": mc["sessionId"], "reason": "spam"},
            headers={"Authorization": f"Bearer {c.token}"},
        )
        assert r.status_code == 201, r.text
    r = await moderator.call("POST", f"/api/admin/reports/{r.json()['id']}/false-positive")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_automatic")
    for peer in (a, b, c, d):
        await peer.close()


async def test_a_frame_between_the_thresholds_is_reported_not_hidden(
    fc_server: Server, admin: StaffClient
) -> None:
    srv = fc_server
    a, b, ma, _ = await pair(srv)
    sid = ma["sessionId"]
    assert (await send_frame(srv, b.token, sid, frames.GREY)).status_code == 202
    assert (await send_frame(srv, a.token, sid, frames.MID_RED)).status_code == 202
    report: dict[str, Any] | None = None

    async def filed() -> bool:
        nonlocal report
        report = await auto_report(admin, sid)
        return report is not None

    await until(filed, 10, "the automatic report is in the queue")
    assert report is not None
    assert 0.3 <= report["scores"]["TEST_RED"] < 0.7
    # The partner's view was not hidden: the hide would have been pushed before the report.
    await b.barrier()
    await a.barrier()
    assert b.events("video-hidden") == []
    assert a.events("video-flagged") == []
    # The grey frame of the other member filed nothing.
    r = await admin.call("GET", "/api/admin/reports", params={"status": "pending", "limit": 200})
    assert [x["reportedPeerId"] for x in r.json()["reports"] if x["sessionId"] == sid] == [
        report["reportedPeerId"]
    ]
    await a.close()
    await b.close()


async def test_with_bans_enabled_a_flagged_sender_is_banned_for_a_while(
    make_server: Callable[[Mapping[str, str]], Server],
) -> None:
    srv = make_server(
        {**SETTINGS, "CONNECT_FRAMECHECK_BAN_ENABLED": "true", "CONNECT_FRAMECHECK_BAN_HOURS": "2"}
    )
    admin, _, _ = await new_admin(srv)
    a, b, ma, _ = await pair(srv)
    sid = ma["sessionId"]
    assert (await send_frame(srv, a.token, sid, frames.RED)).status_code == 202
    await b.event("video-hidden", timeout=20)
    banned = await a.event("banned", timeout=20)
    assert banned["until"] is not None  # temporary
    assert "frame check" in banned["reason"]
    assert banned["reasonCode"] == "auto_frame_check"
    assert set(banned["reasonParams"]) == {"label", "score"}
    assert banned["reason"].endswith(banned["reasonParams"]["score"])
    r = await send_frame(srv, a.token, sid, frames.GREY)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "banned")
    bans = await admin.call("GET", "/api/admin/bans")
    mine = [x for x in bans.json()["bans"] if x["automatic"] and "frame check" in x["reason"]]
    assert len(mine) == 1
    assert mine[0]["scope"] == "device"
    assert mine[0]["reportId"] is not None  # the automatic report it came with
    await b.close()


async def test_a_changed_policy_is_audited_once(
    make_server: Callable[[Mapping[str, str]], Server], tmp_path: Path
) -> None:
    """Thresholds are settings: the first start with a changed policy writes one audit entry."""
    db = {"CONNECT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"}

    async def entries(srv: Server) -> list[dict[str, Any]]:
        admin, _, _ = await new_admin(srv)
        r = await admin.call("GET", "/api/admin/audit-log", params={"limit": 500})
        return [e for e in r.json()["entries"] if e["action"] == "framecheck.policy"]

    first = make_server({**SETTINGS, **db})
    recorded = await entries(first)
    assert len(recorded) == 1
    assert recorded[0]["details"]["reviewThreshold"] == 0.3
    assert recorded[0]["actorId"] == "system"
    first.stop()
    same = make_server({**SETTINGS, **db})
    assert len(await entries(same)) == 1  # unchanged: nothing new
    same.stop()
    changed = make_server({**SETTINGS, **db, "CONNECT_FRAMECHECK_REVIEW_THRESHOLD": "0.4"})
    recorded = await entries(changed)
    assert [e["details"]["reviewThreshold"] for e in recorded] == [0.4, 0.3]
    changed.stop()


async def test_hits_on_two_nodes_escalate_together(
    make_server: Callable[[Mapping[str, str]], Server], backing_services: dict[str, str]
) -> None:
    """Two nodes sharing Redis and PostgreSQL; three sessions of one device, each frame
    between the thresholds, sent to node 1, node 2, node 1. Node 1 itself saw only two
    hits: the third frame escalates (hidden at once) because the shared database knows
    the report node 2 filed."""
    shared = backend_settings("redis-postgres", backing_services)
    n1 = make_server({**SETTINGS, **shared, "CONNECT_NODE_ID": "fc-n1"})
    n2 = make_server({**SETTINGS, **shared, "CONNECT_NODE_ID": "fc-n2"})
    admin, _, _ = await new_admin(n1)
    a_token = await guest_token(n1.http)
    a = await Peer.connect(n1.ws, a_token)
    peers = [a]
    try:
        for node in (n1, n2, n1):
            other = await Peer.connect(n1.ws, await guest_token(n1.http))
            peers.append(other)
            tag = [secrets.token_hex(6)]
            assert (await a.request("join-queue", {"mode": "video", "interests": tag}))["ok"]
            assert (await other.request("join-queue", {"mode": "video", "interests": tag}))["ok"]
            sid = (await a.event("matched"))["sessionId"]
            await other.event("matched")
            assert (await send_frame(node, a_token, sid, frames.MID_RED)).status_code == 202

            async def filed(sid: str = sid) -> bool:
                return await auto_report(admin, sid) is not None

            await until(filed, 15, "the automatic report is filed")
            if node is n1 and len(peers) == 4:
                await other.event("video-hidden", timeout=15)
                report = await auto_report(admin, sid)
                assert report is not None
                assert "escalated: 3 hits" in (report["comment"] or "")
            else:
                await other.barrier()
                assert other.events("video-hidden") == []
            assert (await a.request("end-call", {}))["ok"]
            await other.event("peer-ended")
    finally:
        for peer in peers:
            await peer.close()
