"""The whole strangers flow against a real server over real sockets."""

from __future__ import annotations

import pytest

from tests.support.client import Peer, guest_token, new_device, paired
from tests.support.http import loopback_client
from tests.support.server import Server

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


async def test_welcome_carries_connection_and_resume_token(server: Server) -> None:
    peer = await Peer.connect(server.ws, await guest_token(server.http))
    assert peer.welcome["connectionId"]
    assert len(peer.welcome["resumeToken"]) >= 24
    assert peer.welcome["heartbeatMs"] > 0
    assert peer.welcome["resumed"] is False
    await peer.close()


async def test_join_match_signal_chat_next_end(server: Server) -> None:
    a = await Peer.connect(server.ws, await guest_token(server.http))
    b = await Peer.connect(server.ws, await guest_token(server.http))
    ack = await a.request(
        "join-queue", {"mode": "video", "interests": ["Chess", "music"], "language": "en"}
    )
    # (ext) the join ack names the detected country: none for a loopback visitor.
    assert ack == {"ack": ack["ack"], "ok": True, "queued": True, "country": None}
    queued = await a.event("queued")
    assert isinstance(queued["since"], int)
    await b.request("join-queue", {"mode": "video", "interests": ["chess"], "language": "en"})
    ma, mb = await a.event("matched"), await b.event("matched")

    assert ma["sessionId"] == mb["sessionId"]
    assert {ma["initiator"], mb["initiator"]} == {True, False}
    assert ma["initiator"] is True, "the one who waited longer offers"
    assert ma["commonInterests"] == mb["commonInterests"] == ["chess"]
    assert ma["mode"] == "video"
    assert isinstance(ma["iceServers"], list)
    assert ma["peerId"] != mb["peerId"]

    await a.request("send-offer", {"offer": OFFER})
    assert await b.event("offer") == {"from": mb["peerId"], "offer": OFFER}
    await b.request("send-answer", {"answer": ANSWER})
    assert await a.event("answer") == {"from": ma["peerId"], "answer": ANSWER}
    await a.request("send-candidate", {"candidate": CANDIDATE})
    assert await b.event("candidate") == {"from": mb["peerId"], "candidate": CANDIDATE}
    await b.request("typing", {"active": True})
    assert await a.event("typing") == {"from": ma["peerId"], "active": True}

    sent = await a.request("send-message", {"text": "hello you shit"})
    assert sent["text"] == "hello you ****"
    got = await b.event("message")
    assert got["from"] == mb["peerId"]
    assert got["text"] == "hello you ****"
    assert isinstance(got["ts"], int)

    assert (await a.request("next"))["ok"]
    assert await b.event("peer-ended") == {"reason": "skipped"}
    await a.event("queued")
    await a.request("leave-queue")

    signal_after = await b.request("send-message", {"text": "anyone?"})
    assert signal_after["ok"] is False
    assert signal_after["error"]["code"] == "not_in_session"
    await a.close()
    await b.close()


async def test_end_call_tells_partner_and_blocks_rematch(server: Server) -> None:
    a, b, _, _ = await paired(server.ws, server.http)
    await a.request("end-call")
    assert await b.event("peer-ended") == {"reason": "ended"}
    again = await a.request("end-call")
    assert again["ok"] is False
    assert again["error"]["code"] == "not_in_session"
    await a.close()
    await b.close()


async def test_disconnect_with_normal_close_tells_partner_at_once(server: Server) -> None:
    a, b, _, _ = await paired(server.ws, server.http)
    await a.close()
    assert await b.event("peer-ended") == {"reason": "disconnected"}
    await b.close()


async def test_text_mode_pairs_only_text_and_refuses_media(server: Server) -> None:
    a, b, ma, _ = await paired(server.ws, server.http, mode="text")
    assert ma["mode"] == "text"
    refused = await a.request("send-offer", {"offer": OFFER})
    assert refused["error"]["code"] == "wrong_mode"
    await a.request("send-message", {"text": "text only"})
    assert (await b.event("message"))["text"] == "text only"
    await a.close()
    await b.close()


async def test_join_twice_and_join_in_session_are_refused(server: Server) -> None:
    a, b, _, _ = await paired(server.ws, server.http)
    refused = await a.request("join-queue", {"mode": "video"})
    assert refused["error"]["code"] == "already_in_session"
    c = await Peer.connect(server.ws, await guest_token(server.http))
    await c.request("join-queue", {"mode": "text", "interests": [new_device()]})
    twice = await c.request("join-queue", {"mode": "text"})
    assert twice["error"]["code"] == "already_queued"
    next_without_criteria = await (
        await Peer.connect(server.ws, await guest_token(server.http))
    ).request("next")
    assert next_without_criteria["error"]["code"] == "not_queued"
    for p in (a, b, c):
        await p.close()


async def test_same_device_is_never_paired(server: Server) -> None:
    device = new_device()
    a = await Peer.connect(server.ws, await guest_token(server.http, device))
    b = await Peer.connect(server.ws, await guest_token(server.http, device))
    tag = [new_device()]
    await a.request("join-queue", {"mode": "video", "interests": tag})
    await b.request("join-queue", {"mode": "video", "interests": tag})
    await a.event("queued")
    await b.event("queued")
    await a.barrier()
    await b.barrier()
    assert a.events("matched") == b.events("matched") == []
    await a.close()
    await b.close()


@pytest.mark.parametrize("who", ["member", "outsider"])
async def test_report_only_by_members_once(server: Server, who: str) -> None:
    a, b, ma, _ = await paired(server.ws, server.http)
    body = {"sessionId": ma["sessionId"], "reason": "harassment", "comment": "rude"}
    async with loopback_client(base_url=server.http) as http:
        if who == "outsider":
            token = await guest_token(server.http)
            r = await http.post(
                "/api/reports", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code == 403
            assert r.json()["error"]["code"] == "forbidden"
        else:
            token = await guest_token(server.http)
            r = await http.post("/api/reports", json=body)
            assert r.status_code == 401
            a_token = a.token
            r = await http.post(
                "/api/reports", json=body, headers={"Authorization": f"Bearer {a_token}"}
            )
            assert r.status_code == 201, r.text
            assert r.json()["status"] == "pending"
            again = await http.post(
                "/api/reports", json=body, headers={"Authorization": f"Bearer {a_token}"}
            )
            assert again.status_code == 409
            assert again.json()["error"]["code"] == "already_reported"
    await a.close()
    await b.close()
