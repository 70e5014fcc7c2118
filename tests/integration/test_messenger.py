"""The messenger layer of contacts over real HTTP and WebSockets, on both backends:
live receipts (delivered, read), edit, delete for everyone, replies, any emoji as a
reaction, search in a conversation, channel-created, presence with its privacy setting,
calls to offline people and the per-call record.

Absence is never waited for: after the action that must not push anything, a later
*marker* that must arrive (sent the same way) proves nothing came before it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from tests.support.client import Peer, guest_token
from tests.support.http import loopback_client
from tests.support.server import Server
from tests.support.staff import new_admin, new_moderator
from tests.support.users import User, channel, new_user

MARKER_S = 15.0
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def send(user: User, cid: str, text: str, **extra: Any) -> dict[str, Any]:
    r = await user.call(
        "POST",
        f"/api/channels/{cid}/messages",
        json={"text": text, "clientId": uuid.uuid4().hex, **extra},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def history(user: User, cid: str) -> list[dict[str, Any]]:
    r = await user.call("GET", f"/api/channels/{cid}/messages?limit=200")
    assert r.status_code == 200, r.text
    messages: list[dict[str, Any]] = r.json()["messages"]
    return messages


def kinds(peer: Peer) -> list[str]:
    return [str(f.get("event")) for f in peer.inbox if "event" in f]


async def until(check: Callable[[], Any], what: str, timeout: float = MARKER_S) -> Any:
    """Poll ``check`` (an async callable) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)  # polling a condition, bounded by the deadline


# Receipts


async def test_delivered_and_read_receipts_reach_every_device_of_the_sender(
    server: Server,
) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    a_phone, a_laptop, b_dev = await ann.device(), await ann.device(), await bob.device()

    first = await send(ann, cid, "hello")
    assert (await b_dev.event("channel-message", MARKER_S))["id"] == first["id"]
    ack = await b_dev.request("messages-delivered", {"ids": [first["id"]]})
    assert ack["ok"]
    assert ack["acknowledged"] == 1
    for dev in (a_phone, a_laptop):
        receipt = await dev.event("message-receipt", MARKER_S)
        assert receipt["status"] == "delivered"
        assert receipt["messageIds"] == [first["id"]]
        assert receipt["userId"] == bob.id
        assert receipt["channelId"] == cid
    again = await b_dev.request("messages-delivered", {"ids": [first["id"]]})
    assert again["acknowledged"] == 0, "a repeated ack is no progress"

    second = await send(ann, cid, "are you there?")
    r = await bob.call("POST", "/api/messages/delivered", json={"ids": [second["id"]]})
    assert r.json() == {"acknowledged": 1}
    for dev in (a_phone, a_laptop):
        receipt = await dev.event("message-receipt", MARKER_S)
        assert receipt["messageIds"] == [second["id"]], "only the newly delivered one"

    r = await bob.call("POST", f"/api/channels/{cid}/read", json={"seq": second["seq"]})
    assert r.status_code == 204
    for dev in (a_phone, a_laptop, b_dev):
        read = await dev.event("message-receipt", MARKER_S)
        assert read["status"] == "read"
        assert read["upToSeq"] == second["seq"]
        assert read["userId"] == bob.id
    # An older seq is no progress: nothing is pushed (the next send is the marker).
    r = await bob.call("POST", f"/api/channels/{cid}/read", json={"seq": 1})
    assert r.status_code == 204
    await send(bob, cid, "marker")
    await a_phone.event("channel-message", MARKER_S)
    assert "message-receipt" not in kinds(a_phone)

    views = {m["id"]: m for m in await history(ann, cid)}
    for m in (first, second):
        assert views[m["id"]]["deliveredAt"] is not None
        assert views[m["id"]]["readAt"] is not None, "consistent after a reload"
    unread = {
        c["id"]: c["unreadCount"]
        for c in (await bob.call("GET", "/api/channels")).json()["channels"]
    }
    assert unread[cid] == 0
    for dev in (a_phone, a_laptop, b_dev):
        await dev.close()


async def test_reading_marks_delivered_and_no_receipt_crosses_a_block(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    a_dev = await ann.device()
    m = await send(ann, cid, "unseen")
    assert (await bob.call("POST", f"/api/users/{ann.id}/block")).status_code == 204
    r = await bob.call("POST", f"/api/channels/{cid}/read", json={"seq": m["seq"]})
    assert r.status_code == 204
    assert (await bob.call("DELETE", f"/api/users/{ann.id}/block")).status_code == 204
    # Marker: a message from Bob after the unblock.
    await send(bob, cid, "marker")
    await a_dev.event("channel-message", MARKER_S)
    assert "message-receipt" not in kinds(a_dev), "no receipt across the block"
    view = next(v for v in await history(ann, cid) if v["id"] == m["id"])
    assert view["readAt"] is None, "a read across a block is not recorded"
    # Editing across a block is refused; deleting is allowed but tells only the deleter.
    assert (await ann.call("POST", f"/api/users/{bob.id}/block")).status_code == 204
    edit = await ann.call("PATCH", f"/api/messages/{m['id']}", json={"text": "sneaky"})
    assert edit.status_code == 403
    assert edit.json()["error"]["code"] == "blocked"
    b_dev = await bob.device()
    doomed = (await history(ann, cid))[0]
    assert doomed["senderId"] == ann.id
    assert (await ann.call("DELETE", f"/api/messages/{doomed['id']}")).status_code == 204
    assert (await a_dev.event("message-deleted", MARKER_S))["messageId"] == doomed["id"]
    assert (await ann.call("DELETE", f"/api/users/{bob.id}/block")).status_code == 204
    await send(ann, cid, "marker 2")
    await b_dev.event("channel-message", MARKER_S)
    assert "message-deleted" not in kinds(b_dev), "nothing crosses the block"
    await b_dev.close()
    # After the unblock a read is a read again (and implies delivery).
    m2 = await send(ann, cid, "now?")
    r = await bob.call("POST", f"/api/channels/{cid}/read", json={"seq": m2["seq"]})
    assert r.status_code == 204
    read = await a_dev.event("message-receipt", MARKER_S)
    assert read["status"] == "read"
    assert read["upToSeq"] == m2["seq"]
    view = next(v for v in await history(ann, cid) if v["id"] == m2["id"])
    assert view["deliveredAt"] is not None
    assert view["readAt"] is not None
    await a_dev.close()


async def test_receipt_latency_figures(server: Server) -> None:
    """send → delivered push and send → read push, measured end to end (median of runs)."""
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    a_dev, b_dev = await ann.device(), await bob.device()
    delivered, read = [], []
    for i in range(15):
        t0 = time.perf_counter()
        m = await send(ann, cid, f"ping {i}")
        got = await b_dev.event("channel-message", MARKER_S)
        assert got["id"] == m["id"]
        await b_dev.request("messages-delivered", {"ids": [m["id"]]})
        assert (await a_dev.event("message-receipt", MARKER_S))["status"] == "delivered"
        delivered.append(time.perf_counter() - t0)
        r = await bob.call("POST", f"/api/channels/{cid}/read", json={"seq": m["seq"]})
        assert r.status_code == 204
        assert (await a_dev.event("message-receipt", MARKER_S))["status"] == "read"
        read.append(time.perf_counter() - t0)
    d_ms, r_ms = statistics.median(delivered) * 1000, statistics.median(read) * 1000
    print(f"\nreceipts: send→delivered median {d_ms:.1f} ms, send→read median {r_ms:.1f} ms")
    assert d_ms < 1000
    assert r_ms < 1500
    await a_dev.close()
    await b_dev.close()


# Edit, delete, reply


def _files(server: Server) -> set[Path]:
    root = server.data_dir / "attachments"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def test_edit_delete_and_reply(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    a_dev, b_dev = await ann.device(), await bob.device()
    before = _files(server)
    up = await ann.call(
        "POST",
        "/api/attachments",
        data={"channelId": cid},
        files={"file": ("a.png", PNG, "image/png")},
    )
    assert up.status_code == 201, up.text
    (stored,) = _files(server) - before
    original = await send(ann, cid, "look at this", attachmentId=up.json()["id"])
    reply = await send(bob, cid, "nice " * 60, replyTo=original["id"])
    assert reply["replyTo"] == {
        "id": original["id"],
        "senderId": ann.id,
        "text": "look at this",
        "hasAttachment": True,
        "deleted": False,
    }
    quoted = await send(ann, cid, "quoting", replyTo=reply["id"])
    assert len(quoted["replyTo"]["text"]) == 200, "a quote is short"

    r = await ann.call("PATCH", f"/api/messages/{original['id']}", json={"text": "look at THIS"})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "look at THIS"
    assert r.json()["editedAt"] is not None
    for dev in (a_dev, b_dev):
        edited = await dev.event("message-edited", MARKER_S)
        assert edited["id"] == original["id"]
        assert edited["text"] == "look at THIS"
    not_mine = await bob.call("PATCH", f"/api/messages/{original['id']}", json={"text": "x"})
    assert not_mine.status_code == 403
    blank = await bob.call("PATCH", f"/api/messages/{reply['id']}", json={"text": "  "})
    assert blank.status_code == 400

    r = await ann.call("DELETE", f"/api/messages/{original['id']}")
    assert r.status_code == 204
    for dev in (a_dev, b_dev):
        gone = await dev.event("message-deleted", MARKER_S)
        assert gone["messageId"] == original["id"]
        assert gone["seq"] == original["seq"]
    assert not stored.exists(), "the attachment file is removed from disk"
    assert (await bob.call("GET", f"/api/attachments/{up.json()['id']}")).status_code == 404
    views = {v["id"]: v for v in await history(bob, cid)}
    tomb = views[original["id"]]
    assert tomb["text"] == ""
    assert tomb["attachment"] is None
    assert tomb["deletedAt"] is not None
    assert views[reply["id"]]["replyTo"]["deleted"] is True
    assert views[reply["id"]]["replyTo"]["text"] == ""

    assert (await ann.call("DELETE", f"/api/messages/{original['id']}")).status_code == 204
    edit_dead = await ann.call("PATCH", f"/api/messages/{original['id']}", json={"text": "y"})
    assert edit_dead.status_code == 409
    assert edit_dead.json()["error"]["code"] == "message_deleted"
    react_dead = await bob.call(
        "POST", f"/api/messages/{original['id']}/reactions", json={"emoji": "👍"}
    )
    assert react_dead.status_code == 409
    bad_reply = await bob.call(
        "POST",
        f"/api/channels/{cid}/messages",
        json={"text": "re", "clientId": uuid.uuid4().hex, "replyTo": original["id"]},
    )
    assert bad_reply.status_code == 400
    assert bad_reply.json()["error"]["code"] == "invalid_reply"
    # A message of another conversation cannot be quoted either.
    carl = await new_user(server, "Carl")
    other = await send(ann, await channel(ann, carl), "elsewhere")
    cross = await bob.call(
        "POST",
        f"/api/channels/{cid}/messages",
        json={"text": "re", "clientId": uuid.uuid4().hex, "replyTo": other["id"]},
    )
    assert cross.status_code == 400
    # The repeated delete pushed nothing: the next push is the marker.
    await send(bob, cid, "marker")
    await a_dev.event("channel-message", MARKER_S)
    assert "message-deleted" not in kinds(a_dev)
    await a_dev.close()
    await b_dev.close()


async def test_edit_window(make_server: Callable[[Mapping[str, str]], Server]) -> None:
    srv = make_server({"CONNECT_MESSAGE_EDIT_WINDOW_S": "0.5"})
    ann, bob = await new_user(srv, "Ann"), await new_user(srv, "Bob")
    cid = await channel(ann, bob)
    m = await send(ann, cid, "typo")

    async def closed() -> bool:
        r = await ann.call("PATCH", f"/api/messages/{m['id']}", json={"text": "fixed"})
        assert r.status_code in (200, 409), r.text
        return r.status_code == 409 and r.json()["error"]["code"] == "edit_window_passed"

    await until(closed, "the edit window to close", timeout=10)


# Reactions


async def test_any_single_emoji_several_per_message_and_who(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    m = await send(ann, cid, "react to me")
    a_dev = await ann.device()
    path = f"/api/messages/{m['id']}/reactions"
    for user, emoji in (
        (ann, "👍"),
        (bob, "👍"),
        (bob, "❤️"),
        (bob, "👨‍👩‍👧"),
        (ann, "🇩🇪"),
        (bob, "👍🏽"),
    ):
        r = await user.call("POST", path, json={"emoji": emoji})
        assert r.status_code == 204, (emoji, r.text)
    pushed = [await a_dev.event("message-reaction", MARKER_S) for _ in range(5)]
    assert {p["emoji"] for p in pushed} >= {"❤️", "👨‍👩‍👧"}
    view = next(v for v in await history(ann, cid) if v["id"] == m["id"])
    who = {r["emoji"]: set(r["userIds"]) for r in view["reactions"]}
    assert who["👍"] == {ann.id, bob.id}
    assert who["👨‍👩‍👧"] == {bob.id}
    for bad in ("a", "👍👍", "1", "👍a", "\u200d", "x\ufe0f", "🇩"):
        r = await bob.call("POST", path, json={"emoji": bad})
        assert r.status_code == 400, bad
        assert r.json()["error"]["code"] in ("invalid_emoji", "invalid_request"), bad
    oversize = await bob.call("POST", path, json={"emoji": "😀" * 17})
    assert oversize.status_code == 400
    many = ["😀", "😁", "😂", "🤣", "😃", "😄"]  # Bob's 7th to 10th
    for emoji in many:
        assert (await bob.call("POST", path, json={"emoji": emoji})).status_code == 204
    full = await bob.call("POST", path, json={"emoji": "🙃"})
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "too_many_reactions"
    r = await bob.call("DELETE", path, params={"emoji": "👨‍👩‍👧"})
    assert r.status_code == 204
    await a_dev.close()


async def test_an_emoji_with_or_without_vs16_is_one_reaction(server: Server) -> None:
    """👍 and 👍+U+FE0F, ❤ and ❤+U+FE0F: each pair is one reaction, stored and pushed in
    the fully-qualified form the web client sends; either spelling removes it."""
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    m = await send(ann, cid, "react to me")
    a_dev = await ann.device()
    path = f"/api/messages/{m['id']}/reactions"
    thumbs, heart, vs16 = "\U0001f44d", "\u2764", "\ufe0f"

    async def pushed() -> tuple[str, str]:
        event = await a_dev.event("message-reaction", MARKER_S)
        return event["emoji"], event["action"]

    assert (await bob.call("POST", path, json={"emoji": thumbs + vs16})).status_code == 204
    assert await pushed() == (thumbs, "added")
    assert (await bob.call("POST", path, json={"emoji": thumbs})).status_code == 204
    assert (await bob.call("POST", path, json={"emoji": heart})).status_code == 204
    # The next push is the heart's: the second thumbs up added nothing.
    assert await pushed() == (heart + vs16, "added")
    view = next(v for v in await history(ann, cid) if v["id"] == m["id"])
    assert sorted((r["emoji"], r["userIds"]) for r in view["reactions"]) == sorted(
        [(thumbs, [bob.id]), (heart + vs16, [bob.id])]
    )

    assert (await bob.call("DELETE", path, params={"emoji": thumbs + vs16})).status_code == 204
    assert await pushed() == (thumbs, "removed")
    assert (await bob.call("DELETE", path, params={"emoji": heart})).status_code == 204
    assert await pushed() == (heart + vs16, "removed")
    view = next(v for v in await history(ann, cid) if v["id"] == m["id"])
    assert view["reactions"] == []
    await a_dev.close()


# Search


async def test_search_in_a_conversation(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    texts = ["Hello world", "100% sure", "snake_case name", "back\\slash", "HELLO again", "x"]
    sent = [await send(ann if i % 2 else bob, cid, t) for i, t in enumerate(texts)]

    async def search(user: User, **params: Any) -> httpx.Response:
        return await user.call("GET", f"/api/channels/{cid}/messages/search", params=params)

    r = await search(ann, q="hello")
    assert [m["text"] for m in r.json()["messages"]] == ["HELLO again", "Hello world"]
    assert [m["text"] for m in (await search(ann, q="%")).json()["messages"]] == ["100% sure"]
    assert [m["text"] for m in (await search(bob, q="_")).json()["messages"]] == ["snake_case name"]
    assert [m["text"] for m in (await search(bob, q="\\")).json()["messages"]] == ["back\\slash"]
    page = (await search(ann, q="l", limit=2)).json()
    assert len(page["messages"]) == 2
    assert page["nextBefore"] == page["messages"][-1]["seq"]
    rest = (await search(ann, q="l", limit=2, before=page["nextBefore"])).json()
    assert all(m["seq"] < page["nextBefore"] for m in rest["messages"])
    assert (await bob.call("DELETE", f"/api/messages/{sent[4]['id']}")).status_code == 204
    r = await search(ann, q="hello")
    assert [m["text"] for m in r.json()["messages"]] == ["Hello world"], "tombstones never match"
    for params in (
        {"q": ""},
        {"q": "   "},
        {"q": "a" * 101},
        {"q": "a", "limit": 51},
        {"q": "a\x00"},
    ):
        r = await search(ann, **params)
        assert r.status_code == 400, params
    eve = await new_user(server, "Eve")
    assert (await search(eve, q="hello")).status_code == 404


# Channel created


async def test_a_new_channel_is_pushed_to_both_at_once(server: Server) -> None:
    carl, dana = await new_user(server, "Carl"), await new_user(server, "Dana")
    c_dev, d_dev = await carl.device(), await dana.device()
    cid = await channel(carl, dana)
    theirs = await d_dev.event("channel-created", MARKER_S)
    assert theirs["id"] == cid
    assert theirs["peer"]["id"] == carl.id
    mine = await c_dev.event("channel-created", MARKER_S)
    assert mine["id"] == cid
    assert mine["peer"]["id"] == dana.id
    assert await channel(dana, carl) == cid
    await send(carl, cid, "marker")
    await d_dev.event("channel-message", MARKER_S)
    assert "channel-created" not in kinds(d_dev), "re-opening pushes nothing"

    erin, frank = await new_user(server, "Erin"), await new_user(server, "Frank")
    f_dev = await frank.device()
    assert (await erin.call("POST", f"/api/users/{frank.id}/block")).status_code == 204
    blocked_cid = await channel(erin, frank)
    assert (await erin.call("DELETE", f"/api/users/{frank.id}/block")).status_code == 204
    await send(erin, blocked_cid, "marker")
    await f_dev.event("channel-message", MARKER_S)
    assert "channel-created" not in kinds(f_dev), "nothing crosses a block"
    for dev in (c_dev, d_dev, f_dev):
        await dev.close()


# Presence


async def presence(dev: Peer, user: User, online: bool, seen: bool | None = None) -> Any:
    """The first ``presence`` push about ``user`` with this state (and lastSeenAt set or not)."""

    def match(f: dict[str, Any]) -> bool:
        d = f.get("data") or {}
        return (
            f.get("event") == "presence"
            and d.get("userId") == user.id
            and d.get("online") is online
            and (seen is None or (d.get("lastSeenAt") is not None) is seen)
        )

    return (await dev.take(match, f"presence {user.id} {online}", MARKER_S))["data"]


async def test_presence_online_offline_privacy_and_blocks(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    b_dev = await bob.device()

    async def seen_by(user: User) -> dict[str, dict[str, Any]]:
        r = await user.call("GET", "/api/presence")
        assert r.status_code == 200, r.text
        return {p["userId"]: p for p in r.json()["presence"]}

    assert (await seen_by(ann))[bob.id]["online"] is True
    assert (await seen_by(bob))[ann.id]["online"] is False
    a_dev = await ann.device()
    await presence(b_dev, ann, True)
    a2 = await ann.device()
    await a_dev.close()
    await send(ann, cid, "marker")
    await b_dev.event("channel-message", MARKER_S)
    assert all(p["online"] for p in b_dev.events("presence")), "one device is still there"
    await a2.close()
    off = await presence(b_dev, ann, False, seen=True)
    assert set(off) == {"userId", "online", "lastSeenAt"}
    assert (await seen_by(bob))[ann.id] == off

    r = await ann.call("PUT", "/api/auth/presence", json={"visibility": "nobody"})
    assert r.status_code == 200
    assert r.json() == {"visibility": "nobody"}
    assert (await ann.call("GET", "/api/auth/presence")).json() == {"visibility": "nobody"}
    await presence(b_dev, ann, False, seen=False)
    assert ann.id not in await seen_by(bob)
    b_dev.inbox.clear()
    a3 = await ann.device()
    r = await ann.call("PUT", "/api/auth/presence", json={"visibility": "contacts"})
    assert r.status_code == 200
    await presence(b_dev, ann, True)
    assert [p["online"] for p in b_dev.events("presence")] == [], "the hidden connect was silent"

    assert (await bob.call("POST", f"/api/users/{ann.id}/block")).status_code == 204
    await presence(b_dev, ann, False, seen=False)  # the blocker's screen stops showing Ann
    assert ann.id not in await seen_by(bob)
    assert bob.id not in await seen_by(ann)
    # Cat, who also talks with Ann, witnesses her going offline: the announcement is one
    # pass over Ann's peers, so by the time Cat hears it, it was decided for Bob as well,
    # while he still blocked her (the unblock below cannot overtake it).
    cat = await new_user(server, "Cat")
    await channel(ann, cat)
    c_dev = await cat.device()
    await a3.close()
    await presence(c_dev, ann, False, seen=True)
    b2 = await bob.device()
    assert (await bob.call("DELETE", f"/api/users/{ann.id}/block")).status_code == 204
    a4 = await ann.device()
    await presence(b_dev, ann, True)  # the marker: Ann's first push after the unblock
    assert [p for p in b_dev.events("presence") if p["lastSeenAt"] and not p["online"]] == [], (
        "Ann's going offline during the block did not reach Bob"
    )
    for dev in (b_dev, b2, a4, c_dev):
        await dev.close()


async def test_an_aborted_socket_goes_offline_when_its_place_expires(
    make_server: Callable[[Mapping[str, str]], Server],
) -> None:
    srv = make_server({"CONNECT_RESUME_GRACE_S": "1"})
    ann, bob = await new_user(srv, "Ann"), await new_user(srv, "Bob")
    await channel(ann, bob)
    b_dev, a_dev = await bob.device(), await ann.device()
    await presence(b_dev, ann, True)
    a_dev.abort()
    await presence(b_dev, ann, False, seen=True)
    await b_dev.close()


# Calls


async def test_calling_an_offline_user_answers_at_once_and_leaves_a_missed_call(
    server: Server,
) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    r = await ann.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "audio"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "callee_offline"
    (call,) = (await bob.call("GET", "/api/calls")).json()["calls"]
    assert call["status"] == "missed"
    assert call["endReason"] == "offline"
    assert [e["kind"] for e in call["events"]] == ["offline"]
    assert call["quality"] is None


async def test_declined_call_reaches_every_device_of_both(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    a1, a2, b1, b2 = await ann.device(), await ann.device(), await bob.device(), await bob.device()
    r = await ann.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "video"})
    assert r.status_code == 201, r.text
    call_id = r.json()["callId"]
    for dev in (b1, b2):
        assert (await dev.event("incoming-call", MARKER_S))["callId"] == call_id
    r = await bob.call("POST", f"/api/calls/{call_id}/respond", json={"accept": False})
    assert r.json()["status"] == "rejected"
    for dev in (a1, a2, b1, b2):
        assert (await dev.event("call-rejected", MARKER_S)) == {"callId": call_id}
    r = await ann.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "audio"})
    call_id = r.json()["callId"]
    assert (await ann.call("POST", f"/api/calls/{call_id}/end")).json()["status"] == "cancelled"
    for dev in (a1, a2, b1, b2):
        ended = await dev.event("call-ended", MARKER_S)
        assert ended == {"callId": call_id, "reason": "cancelled"}
    for dev in (a1, a2, b1, b2):
        await dev.close()


async def test_call_record_events_and_quality(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    a_dev, b_dev = await ann.device(), await bob.device()
    r = await ann.call(
        "POST",
        "/api/calls",
        json={"calleeId": bob.id, "media": "video", "connectionId": a_dev.welcome["connectionId"]},
    )
    call_id = r.json()["callId"]
    await b_dev.event("incoming-call", MARKER_S)
    r = await bob.call(
        "POST",
        f"/api/calls/{call_id}/respond",
        json={"accept": True, "connectionId": b_dev.welcome["connectionId"]},
    )
    assert r.status_code == 200, r.text
    await a_dev.event("call-accepted", MARKER_S)
    await b_dev.event("call-accepted", MARKER_S)
    frames = [
        (a_dev, {"iceState": "checking"}),
        (
            a_dev,
            {
                "iceState": "connected",
                "candidateType": "host",
                "rttMs": 20,
                "lossPct": 0,
                "bitrateKbps": 800,
            },
        ),
        (
            b_dev,
            {
                "iceState": "connected",
                "candidateType": "relay",
                "rttMs": 40,
                "lossPct": 2,
                "bitrateKbps": 600,
            },
        ),
        (a_dev, {"iceState": "disconnected", "restart": True}),
        (a_dev, {"iceState": "connected", "candidateType": "host", "rttMs": 30}),
    ]
    for dev, stats in frames:
        assert (await dev.request("call-stats", stats))["ok"]
    bad = await a_dev.request("call-stats", {"iceState": "connected", "lossPct": 101})
    assert bad["ok"] is False

    async def recorded() -> dict[str, Any] | None:
        got: dict[str, Any] = (await ann.call("GET", f"/api/calls/{call_id}")).json()
        q = got["quality"]
        return got if q is not None and q["samples"] == len(frames) else None

    call = await until(recorded, "the five samples to be recorded")
    q = call["quality"]
    assert q["rttMsAvg"] == 30.0
    assert q["rttMsMax"] == 40.0
    assert q["lossPctAvg"] == 1.0
    assert q["lossPctMax"] == 2.0
    assert q["bitrateKbpsAvg"] == 700.0
    assert q["candidateTypes"] == ["host", "relay"]
    assert (await a_dev.request("end-call"))["ok"]
    await b_dev.event("call-ended", MARKER_S)

    async def ended() -> list[dict[str, Any]] | None:
        calls = (await bob.call("GET", "/api/calls")).json()["calls"]
        events: list[dict[str, Any]] = calls[0]["events"]
        return events if events and events[-1]["kind"] == "ended" else None

    events = await until(ended, "the ended event")
    assert [e["kind"] for e in events][:2] == ["ringing", "accepted"]
    ice = [(e["userId"], e["detail"]["state"]) for e in events if e["kind"] == "ice"]
    assert (ann.id, "connected") in ice
    assert (ann.id, "disconnected") in ice
    assert [e["userId"] for e in events if e["kind"] == "restart"] == [ann.id]
    assert events[-1]["userId"] == ann.id
    assert events[-1]["detail"] == {"reason": "hangup"}
    await a_dev.close()
    await b_dev.close()


# Who may call the new routes, and hostile input


async def test_authorization_of_every_new_route(server: Server) -> None:
    ann, bob, eve = [await new_user(server, n) for n in ("Ann", "Bob", "Eve")]
    admin, _, _ = await new_admin(server)
    moderator = await new_moderator(server, admin)
    cid = await channel(ann, bob)
    m = await send(ann, cid, "mine")
    guest = {"Authorization": f"Bearer {await guest_token(server.http)}"}
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PATCH", f"/api/messages/{m['id']}", {"text": "x"}),
        ("DELETE", f"/api/messages/{m['id']}", None),
        ("GET", f"/api/channels/{cid}/messages/search?q=mine", None),
        ("GET", "/api/presence", None),
        ("GET", "/api/auth/presence", None),
        ("PUT", "/api/auth/presence", {"visibility": "contacts"}),
    ]
    async with loopback_client(base_url=server.http) as http:
        for method, path, body in routes:
            for headers in ({}, guest):
                r = await http.request(method, path, json=body, headers=headers)
                assert r.status_code == 401, (method, path, headers, r.text)
    for outsider in (eve, moderator, admin):
        for method, path, body in routes[:3]:
            r = await outsider.call(method, path, json=body)
            assert r.status_code == 404, (method, path, r.text)
        r = await outsider.call("GET", "/api/presence")
        assert r.status_code == 200
        assert ann.id not in str(r.json())
    for method, path, body in routes[:2]:
        r = await bob.call(method, path, json=body)
        assert r.status_code == 403, (method, path, "the recipient is not the sender")
    assert (await bob.call("GET", routes[2][1])).status_code == 200
    assert (await ann.call("PATCH", routes[0][1], json=routes[0][2])).status_code == 200
    assert (await ann.call("DELETE", routes[1][1])).status_code == 204


async def test_hostile_input_is_refused_with_the_contract_errors(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    m = await send(ann, cid, "x")
    cases: list[tuple[str, str, Any]] = [
        ("PATCH", f"/api/messages/{m['id']}", {"text": "x", "extra": 1}),
        ("PATCH", f"/api/messages/{m['id']}", {"text": "x" * 4001}),
        ("PATCH", f"/api/messages/{m['id']}", {"text": 5}),
        ("PATCH", f"/api/messages/{m['id']}", {"text": "a\x00b"}),
        ("PATCH", "/api/messages/not-an-id", {"text": "x"}),
        ("DELETE", "/api/messages/..%2F..%2Fetc", None),
        ("PUT", "/api/auth/presence", {"visibility": "everyone"}),
        ("PUT", "/api/auth/presence", {}),
        ("POST", f"/api/channels/{cid}/messages", {"text": "x", "clientId": "c1", "replyTo": "zz"}),
        ("GET", f"/api/channels/{cid}/messages/search?q=a&before=-1", None),
        ("GET", f"/api/channels/{cid}/messages/search?q=a&before=99999999999", None),
    ]
    for method, path, body in cases:
        r = await ann.call(method, path, json=body)
        assert r.status_code in (400, 404), (method, path, r.status_code, r.text)
        assert "error" in r.json()
    # A user who never connected has no presence row yet: the first setting creates it.
    fresh = await new_user(server, "Fresh")
    r = await fresh.call("PUT", "/api/auth/presence", json={"visibility": "nobody"})
    assert r.status_code == 200, r.text
    assert (await fresh.call("GET", "/api/auth/presence")).json() == {"visibility": "nobody"}
    unknown = await ann.call("PATCH", f"/api/messages/{'0' * 32}", json={"text": "x"})
    assert unknown.status_code == 404
    dev = await ann.device()
    for data in ({}, {"ids": []}, {"ids": ["x" * 65]}, {"ids": ["a"] * 501}, {"ids": "a"}):
        ack = await dev.request("messages-delivered", data)
        assert ack["ok"] is False, data
    assert (await dev.request("messages-delivered", {"ids": ["0" * 32]}))["acknowledged"] == 0
    await dev.close()


async def test_guest_sockets_cannot_ack_messages(server: Server) -> None:
    peer = await Peer.connect(server.ws, await guest_token(server.http))
    ack = await peer.request("messages-delivered", {"ids": ["0" * 32]})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "unauthorized"
    await peer.close()
