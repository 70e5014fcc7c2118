"""Contacts over real HTTP and WebSockets: channels, messages, offline delivery, reactions,
attachments, typing, and the refusals."""

from __future__ import annotations

import uuid

import pytest

from tests.support.client import guest_token
from tests.support.http import loopback_client
from tests.support.server import Server
from tests.support.users import User, channel, new_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def send(
    user: User, channel_id: str, text: str, client_id: str | None = None
) -> dict[str, object]:
    r = await user.call(
        "POST",
        f"/api/channels/{channel_id}/messages",
        json={"text": text, "clientId": client_id or uuid.uuid4().hex},
    )
    assert r.status_code in (200, 201), r.text
    body: dict[str, object] = r.json()
    return body


async def test_channel_is_created_once_per_pair(server: Server) -> None:
    a, b = await new_user(server, "Ann"), await new_user(server, "Bob")
    first = await channel(a, b)
    assert await channel(a, b) == first
    assert await channel(b, a) == first
    mine = (await a.call("GET", "/api/channels")).json()["channels"]
    assert [c["id"] for c in mine] == [first]
    assert mine[0]["peer"]["displayName"] == "Bob"
    assert (await a.call("POST", "/api/channels", json={"userId": a.id})).status_code == 400
    assert (await a.call("POST", "/api/channels", json={"userId": "0" * 32})).status_code == 404


async def test_offline_message_is_kept_pushed_on_connect_and_acknowledged(server: Server) -> None:
    a, b = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(a, b)
    sent = await send(a, cid, "while you were away")
    undelivered = (await b.call("GET", "/api/messages/undelivered")).json()["messages"]
    assert [m["id"] for m in undelivered] == [sent["id"]]
    phone = await b.device()
    pushed = await phone.event("channel-message")
    assert pushed["id"] == sent["id"]
    assert pushed["text"] == "while you were away"
    r = await b.call("POST", "/api/messages/delivered", json={"ids": [sent["id"]]})
    assert r.json() == {"acknowledged": 1}
    assert (await b.call("GET", "/api/messages/undelivered")).json()["messages"] == []
    laptop = await b.device()
    await laptop.barrier()
    assert laptop.events("channel-message") == [], "acknowledged messages are not pushed again"
    assert (await a.call("POST", "/api/messages/delivered", json={"ids": [sent["id"]]})).json() == {
        "acknowledged": 0
    }
    await phone.close()
    await laptop.close()


async def test_live_messages_reach_every_device_of_the_recipient_and_the_senders_others(
    server: Server,
) -> None:
    a, b = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(a, b)
    b1, b2, a2 = await b.device(), await b.device(), await a.device()
    sent = await send(a, cid, "hi all")
    for device in (b1, b2, a2):
        assert (await device.event("channel-message"))["id"] == sent["id"]
    for d in (b1, b2, a2):
        await d.close()


async def test_resend_with_same_client_id_is_idempotent_and_conflicting_reuse_refused(
    server: Server,
) -> None:
    a, b = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(a, b)
    client_id = "retry-" + uuid.uuid4().hex[:8]
    first = await a.call(
        "POST", f"/api/channels/{cid}/messages", json={"text": "once", "clientId": client_id}
    )
    again = await a.call(
        "POST", f"/api/channels/{cid}/messages", json={"text": "once", "clientId": client_id}
    )
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    clash = await a.call(
        "POST", f"/api/channels/{cid}/messages", json={"text": "different", "clientId": client_id}
    )
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "client_id_conflict"
    history = (await b.call("GET", f"/api/channels/{cid}/messages")).json()["messages"]
    assert [m["text"] for m in history] == ["once"]


async def test_history_pages_with_a_cursor_and_unread_counts(server: Server) -> None:
    a, b = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(a, b)
    for i in range(7):
        await send(a, cid, f"m{i}")
    page = (await b.call("GET", f"/api/channels/{cid}/messages?limit=3")).json()
    assert [m["text"] for m in page["messages"]] == ["m0", "m1", "m2"]
    page2 = (
        await b.call("GET", f"/api/channels/{cid}/messages?limit=3&after={page['nextCursor']}")
    ).json()
    assert [m["text"] for m in page2["messages"]] == ["m3", "m4", "m5"]
    page3 = (
        await b.call("GET", f"/api/channels/{cid}/messages?limit=3&after={page2['nextCursor']}")
    ).json()
    assert [m["text"] for m in page3["messages"]] == ["m6"]
    assert page3["nextCursor"] is None
    listing = (await b.call("GET", "/api/channels")).json()["channels"][0]
    assert listing["unreadCount"] == 7
    assert listing["lastMessage"]["text"] == "m6"
    await b.call("POST", f"/api/channels/{cid}/read", json={"seq": page2["messages"][-1]["seq"]})
    assert (await b.call("GET", "/api/channels")).json()["channels"][0]["unreadCount"] == 1
    assert (await a.call("GET", "/api/channels")).json()["channels"][0]["unreadCount"] == 0


async def test_reactions_are_pushed_and_listed(server: Server) -> None:
    a, b = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(a, b)
    msg = await send(a, cid, "react to me")
    a_dev = await a.device()
    assert (
        await b.call("POST", f"/api/messages/{msg['id']}/reactions", json={"emoji": "👍"})
    ).status_code == 204
    pushed = await a_dev.event("message-reaction")
    assert pushed == {
        "messageId": msg["id"],
        "channelId": cid,
        "userId": b.id,
        "emoji": "👍",
        "action": "added",
    }
    history = (await a.call("GET", f"/api/channels/{cid}/messages")).json()["messages"]
    assert history[0]["reactions"] == [{"emoji": "👍", "userIds": [b.id]}]
    assert (
        await b.call("DELETE", f"/api/messages/{msg['id']}/reactions?emoji=👍")
    ).status_code == 204
    assert (await a_dev.event("message-reaction"))["action"] == "removed"
    c = await new_user(server, "Cat")
    assert (
        await c.call("POST", f"/api/messages/{msg['id']}/reactions", json={"emoji": "👎"})
    ).status_code == 404
    await a_dev.close()


async def test_attachments_bounded_typed_and_only_for_members(server: Server) -> None:
    a, b = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(a, b)
    up = await a.call(
        "POST",
        "/api/attachments",
        data={"channelId": cid},
        files={"file": ("pic.png", PNG, "image/png")},
    )
    assert up.status_code == 201, up.text
    att = up.json()
    assert att["contentType"] == "image/png"
    msg = await a.call(
        "POST",
        f"/api/channels/{cid}/messages",
        json={"text": "", "attachmentId": att["id"], "clientId": "att1"},
    )
    assert msg.status_code == 201
    assert msg.json()["attachment"]["id"] == att["id"]
    got = await b.call("GET", att["url"])
    assert got.status_code == 200
    assert got.content == PNG
    outsider = await new_user(server, "Eve")
    assert (await outsider.call("GET", att["url"])).status_code == 403
    fake = await a.call(
        "POST",
        "/api/attachments",
        data={"channelId": cid},
        files={"file": ("x.png", b"MZ\x90\x00binary", "image/png")},
    )
    assert fake.status_code == 415
    assert fake.json()["error"]["code"] == "unsupported_type"
    elsewhere = await outsider.call(
        "POST",
        "/api/attachments",
        data={"channelId": cid},
        files={"file": ("p.png", PNG, "image/png")},
    )
    assert elsewhere.status_code == 404
    stolen = await outsider.call(
        "POST", f"/api/channels/{cid}/messages", json={"text": "x", "clientId": "s1"}
    )
    assert stolen.status_code == 404


@pytest.fixture(scope="module")
def small_upload_server(make_server) -> Server:  # type: ignore[no-untyped-def]
    return make_server({"CONNECT_ATTACHMENT_MAX_BYTES": "2048"})


async def test_oversize_attachment_is_refused(small_upload_server: Server) -> None:
    a, b = await new_user(small_upload_server, "Ann"), await new_user(small_upload_server, "Bob")
    cid = await channel(a, b)
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000
    r = await a.call(
        "POST",
        "/api/attachments",
        data={"channelId": cid},
        files={"file": ("big.png", big, "image/png")},
    )
    assert r.status_code == 413


async def test_typing_over_the_gateway(server: Server) -> None:
    a, b = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(a, b)
    a_dev, b_dev = await a.device(), await b.device()
    assert (await a_dev.request("channel-typing", {"channelId": cid, "active": True}))["ok"]
    typing = await b_dev.event("channel-typing")
    assert typing == {"channelId": cid, "userId": a.id, "active": True, "ttlMs": 6000}
    outsider = await (await new_user(server, "Eve")).device()
    refused = await outsider.request("channel-typing", {"channelId": cid, "active": True})
    assert refused["error"]["code"] == "not_found"
    guest = await (await guest_connect(server)).request(
        "channel-typing", {"channelId": cid, "active": True}
    )
    assert guest["error"]["code"] == "unauthorized"
    for d in (a_dev, b_dev, outsider):
        await d.close()


async def guest_connect(server: Server):  # type: ignore[no-untyped-def]
    from tests.support.client import Peer

    return await Peer.connect(server.ws, await guest_token(server.http))


async def test_accounts_profile_avatar_search_and_token_rules(server: Server) -> None:
    a = await new_user(server, "Zed")
    r = await a.call("PUT", "/api/auth/profile", json={"displayName": "Zed Renamed"})
    assert r.json()["displayName"] == "Zed Renamed"
    r = await a.call("POST", "/api/auth/avatar", files={"file": ("a.png", PNG, "image/png")})
    assert r.status_code == 200, r.text
    assert r.json()["avatarUrl"].endswith("/avatar")
    bad = await a.call(
        "POST", "/api/auth/avatar", files={"file": ("a.pdf", b"%PDF-1.4 x", "image/png")}
    )
    assert bad.status_code == 415
    b = await new_user(server, "Searcher")
    found = (await b.call("GET", "/api/users?query=renamed")).json()["users"]
    assert [u["id"] for u in found] == [a.id]
    assert "email" not in found[0]
    guest = await guest_token(server.http)
    r = await _get(server, "/api/users?query=x", guest)
    assert r.status_code == 401
    dup = await _post(
        server,
        "/api/auth/signup",
        {"email": a.email, "password": "another-password", "displayName": "x"},
    )
    assert dup.status_code == 409
    weak = await _post(
        server,
        "/api/auth/signup",
        {"email": "w@example.test", "password": "short", "displayName": "x"},
    )
    assert weak.status_code == 400


async def _get(server: Server, path: str, token: str):  # type: ignore[no-untyped-def]

    async with loopback_client(base_url=server.http) as http:
        return await http.get(path, headers={"Authorization": f"Bearer {token}"})


async def _post(server: Server, path: str, body: dict[str, object]):  # type: ignore[no-untyped-def]

    async with loopback_client(base_url=server.http) as http:
        return await http.post(path, json=body)


async def test_server_restart_between_send_and_delivery_loses_nothing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from tests.support.server import start_server

    data = tmp_path_factory.mktemp("restart")
    first = start_server(data)
    try:
        a, b = await new_user(first, "Ann"), await new_user(first, "Bob")
        cid = await channel(a, b)
        sent = await send(a, cid, "survives a restart")
    finally:
        first.stop()
    second = start_server(data)
    try:
        b.server = second
        device = await b.device()
        pushed = await device.event("channel-message")
        assert pushed["id"] == sent["id"]
        assert pushed["text"] == "survives a restart"
        await device.close()
    finally:
        second.stop()
