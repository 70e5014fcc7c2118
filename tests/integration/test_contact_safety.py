"""Safety in contacts over real HTTP and WebSockets, on both backends: blocking (nothing of
a blocked user reaches the blocker: no message, typing, reaction or ring), the user search's
rules, and reports from a conversation into the moderators' queue.

Absence is never waited for: after the action that must not arrive, a later *marker* that
must arrive (sent the same way, after the block is lifted) proves the first one was dropped.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.support.client import Peer, guest_token
from tests.support.http import loopback_client
from tests.support.server import Server
from tests.support.staff import StaffClient, new_admin, new_moderator
from tests.support.users import User, channel, new_user, post_message

# Markers are expected to arrive: a generous bound costs nothing when all is well,
# and keeps a loaded machine (2 cores shared) from failing a correct run.
MARKER_S = 15.0


async def block(user: User, other: User) -> None:
    r = await user.call("POST", f"/api/users/{other.id}/block")
    assert r.status_code == 204, r.text


async def unblock(user: User, other: User) -> None:
    r = await user.call("DELETE", f"/api/users/{other.id}/block")
    assert r.status_code == 204, r.text


def kinds(peer: Peer) -> list[str]:
    return [str(f.get("event")) for f in peer.inbox if "event" in f]


async def test_block_stops_messages_typing_and_reactions_both_ways(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    before = await post_message(bob, cid, "hello before")
    assert before.status_code == 201
    a_dev, b_dev = await ann.device(), await bob.device()
    await block(bob, ann)

    refused = await post_message(ann, cid, "can you hear me")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "blocked"
    mine = await post_message(bob, cid, "the blocker cannot write either")
    assert mine.status_code == 403
    assert mine.json()["error"]["code"] == "blocked"
    react = await ann.call(
        "POST", f"/api/messages/{before.json()['id']}/reactions", json={"emoji": "👍"}
    )
    assert react.status_code == 403
    assert react.json()["error"]["code"] == "blocked"
    assert (await a_dev.request("channel-typing", {"channelId": cid, "active": True}))["ok"]
    assert (await b_dev.request("channel-typing", {"channelId": cid, "active": True}))["ok"]

    await unblock(bob, ann)
    assert (await a_dev.request("channel-typing", {"channelId": cid, "active": False}))["ok"]
    marker = await b_dev.event("channel-typing", MARKER_S)
    assert marker["active"] is False, "the typing sent while blocked never arrived"
    after = await post_message(ann, cid, "after unblock")
    assert after.status_code == 201
    assert (await b_dev.event("channel-message", MARKER_S))["id"] == after.json()["id"]
    assert "message-reaction" not in kinds(b_dev)
    assert "channel-message" not in kinds(b_dev)
    assert (await b_dev.request("channel-typing", {"channelId": cid, "active": False}))["ok"]
    back = await a_dev.event("channel-typing", MARKER_S)
    assert back["active"] is False, "the blocker's typing never reached the blocked user either"
    history = (await bob.call("GET", f"/api/channels/{cid}/messages")).json()["messages"]
    assert [m["text"] for m in history] == ["hello before", "after unblock"]
    await a_dev.close()
    await b_dev.close()


async def test_backlog_never_carries_a_blocked_senders_messages(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    sent = await post_message(ann, cid, "sent while you were away")
    assert sent.status_code == 201
    await block(bob, ann)
    assert (await bob.call("GET", "/api/messages/undelivered")).json()["messages"] == []
    phone = await bob.device()
    await phone.barrier()
    assert phone.events("channel-message") == []
    await phone.close()


async def test_call_to_or_from_a_blocker_is_refused_and_never_rings(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    b_dev, a_dev = await bob.device(), await ann.device()
    await block(bob, ann)
    for caller, callee in ((ann, bob), (bob, ann)):
        r = await caller.call("POST", "/api/calls", json={"calleeId": callee.id, "media": "audio"})
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "blocked"
    assert (await ann.call("GET", "/api/calls")).json()["calls"] == [], "nothing recorded"
    await unblock(bob, ann)
    r = await ann.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "audio"})
    assert r.status_code == 201, r.text
    ring = await b_dev.event("incoming-call", MARKER_S)
    assert ring["callId"] == r.json()["callId"], "the first ring is the call after the unblock"
    assert "incoming-call" not in kinds(b_dev)
    assert (await ann.call("POST", f"/api/calls/{r.json()['callId']}/end")).status_code == 200
    back = await bob.call("POST", "/api/calls", json={"calleeId": ann.id, "media": "audio"})
    assert back.status_code == 201, back.text
    assert (await a_dev.event("incoming-call", MARKER_S))["callId"] == back.json()["callId"]
    assert "incoming-call" not in kinds(a_dev), "the refused call from the blocker never rang"
    await bob.call("POST", f"/api/calls/{back.json()['callId']}/end")
    await a_dev.close()
    await b_dev.close()


async def test_blocking_the_caller_stops_a_ringing_call_and_attachments_are_refused(
    server: Server,
) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    b_dev = await bob.device()
    r = await ann.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "video"})
    assert r.status_code == 201, r.text
    call_id = r.json()["callId"]
    assert (await b_dev.event("incoming-call", MARKER_S))["callId"] == call_id
    await block(bob, ann)
    assert (await b_dev.event("call-rejected", MARKER_S))["callId"] == call_id
    assert (await ann.call("GET", f"/api/calls/{call_id}")).json()["status"] == "rejected"
    upload = await ann.call(
        "POST",
        "/api/attachments",
        data={"channelId": cid},
        files={"file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png")},
    )
    assert upload.status_code == 403
    assert upload.json()["error"]["code"] == "blocked"
    await b_dev.close()


async def test_channels_across_a_block_and_the_block_list(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    await block(bob, ann)
    await block(bob, ann)  # idempotent
    refused = await ann.call("POST", "/api/channels", json={"userId": bob.id})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "blocked"
    mine = await bob.call("POST", "/api/channels", json={"userId": ann.id})
    assert mine.status_code == 200, "the blocker can still open the conversation to read it"
    assert mine.json()["blocked"] is True
    listed = (await bob.call("GET", "/api/channels")).json()["channels"]
    assert [(c["id"], c["blocked"]) for c in listed] == [(cid, True)]
    theirs = (await ann.call("GET", "/api/channels")).json()["channels"]
    assert [(c["id"], c["blocked"]) for c in theirs] == [(cid, False)], "a block is not announced"
    blocks = (await bob.call("GET", "/api/blocks")).json()["blocks"]
    assert [(b["user"]["id"], b["user"]["displayName"]) for b in blocks] == [(ann.id, "Ann")]
    assert (await ann.call("GET", "/api/blocks")).json()["blocks"] == []

    assert (await bob.call("POST", f"/api/users/{bob.id}/block")).status_code == 400
    assert (await bob.call("POST", f"/api/users/{'0' * 32}/block")).status_code == 404
    assert (await bob.call("POST", "/api/users/not-an-id/block")).status_code == 400
    await unblock(bob, ann)
    await unblock(bob, ann)  # idempotent
    assert (await bob.call("GET", "/api/blocks")).json()["blocks"] == []
    assert (await ann.call("POST", "/api/channels", json={"userId": bob.id})).status_code == 200


async def search(user: User, query: str) -> list[str]:
    r = await user.call("GET", "/api/users", params={"query": query, "limit": 50})
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["users"]]


async def test_search_matches_names_or_exact_email_never_staff_blockers_or_wildcards(
    server: Server,
) -> None:
    tag = secrets.token_hex(4)
    me = await new_user(server, f"Searcher{tag}")
    ann = await new_user(server, f"Ann{tag}")
    under = await new_user(server, f"x_y{tag}")
    blocker = await new_user(server, f"Blocker{tag}")
    admin, _, _ = await new_admin(server)
    mod = await _moderator_named(server, admin, f"Mod {tag}")

    found = await search(me, tag)
    assert set(found) == {ann.id, under.id, blocker.id}, "staff and the searcher are hidden"
    assert await search(me, f"ANN{tag.upper()}") == [ann.id], "case-insensitive names"
    assert await search(me, ann.email.upper()) == [ann.id], "an exact email, any case"
    assert await search(me, ann.email.split("@")[0]) == [], "never an email substring"
    assert await search(me, "@example.test") == []
    assert await search(me, f"x_y{tag}") == [under.id]
    assert await search(me, f"xzy{tag}") == [], "_ is not a wildcard"
    assert await search(me, f"%{tag}") == [], "% is not a wildcard"
    assert await search(me, "%") == []
    assert await search(me, "") == [], "no directory listing"
    assert mod.id not in await search(me, "Mod")
    assert await search(me, mod.email) == [], "staff are hidden even by exact email"

    await block(blocker, me)
    assert blocker.id not in await search(me, tag), "a blocker never appears to the blocked"
    assert me.id in await search(blocker, tag), "the blocker can still find them (to unblock)"


class _Staff:
    def __init__(self, client: StaffClient, account_id: str, email: str) -> None:
        self.client = client
        self.id = account_id
        self.email = email


async def _moderator_named(server: Server, admin: StaffClient, name: str) -> _Staff:
    email = f"mod-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(16)
    r = await admin.call(
        "POST",
        "/api/admin/staff",
        json={"email": email, "password": password, "displayName": name, "role": "moderator"},
    )
    assert r.status_code == 201, r.text
    async with loopback_client(base_url=server.http) as http:
        r = await http.post("/api/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        body = r.json()
    client = StaffClient(server, body["accessToken"], body["refreshToken"])
    me = await client.call("GET", "/api/auth/me")
    return _Staff(client, me.json()["id"], email)


async def report(user: User | StaffClient, body: dict[str, Any]) -> httpx.Response:
    return await user.call("POST", "/api/reports", json=body)


async def queue_item(admin: StaffClient, report_id: str) -> dict[str, Any]:
    r = await admin.call("GET", f"/api/admin/reports/{report_id}")
    assert r.status_code == 200, r.text
    item: dict[str, Any] = r.json()
    return item


async def test_report_from_a_conversation_reaches_the_queue_with_the_excerpt_and_bans_the_account(
    server: Server,
) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    texts = [f"line {i}" for i in range(8)]
    ids = []
    for i, text in enumerate(texts):
        r = await post_message(ann if i % 2 else bob, cid, text)
        assert r.status_code == 201
        ids.append(r.json()["id"])
    bad = await post_message(ann, cid, "the offending message")
    r = await report(
        bob,
        {
            "channelId": cid,
            "messageId": bad.json()["id"],
            "reason": "harassment",
            "comment": "rude",
        },
    )
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]
    admin, _, _ = await new_admin(server)
    listed = await admin.call("GET", "/api/admin/reports?status=pending&limit=200")
    assert report_id in [x["id"] for x in listed.json()["reports"]]
    item = await queue_item(admin, report_id)
    assert item["source"] == "conversation"
    assert item["channelId"] == cid
    assert item["messageId"] == bad.json()["id"]
    assert item["messageExcerpt"] == "the offending message"
    assert item["reportedAccount"] == {"id": ann.id, "displayName": "Ann"}
    assert item["reported"]["kind"] == "access"
    assert item["sessionId"] is None
    context = [line["text"] for line in item["transcript"]]
    assert context == [*texts[3:], "the offending message"], "five messages of context before"
    assert [line.get("reported", False) for line in item["transcript"]][-1] is True

    whole = await report(bob, {"channelId": cid, "reason": "spam"})
    assert whole.status_code == 201, "the user (no message) may be reported separately"
    assert (await queue_item(admin, whole.json()["id"]))["messageExcerpt"] is None
    again = await report(bob, {"channelId": cid, "messageId": bad.json()["id"], "reason": "spam"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_reported"

    ip = await admin.call(
        "POST",
        f"/api/admin/reports/{report_id}/resolve",
        json={"action": "accept", "ban": {"durationHours": 1, "scope": ["ip"]}},
    )
    assert ip.status_code == 400, "a conversation report knows no IP"
    assert ip.json()["error"]["reason"] == "ban_conversation_has_no_ip"
    assert ip.json()["error"]["params"] == {}
    resolved = await admin.call(
        "POST",
        f"/api/admin/reports/{report_id}/resolve",
        json={"action": "accept", "ban": {"durationHours": 1, "scope": ["account"]}},
    )
    assert resolved.status_code == 200, resolved.text
    [ban] = resolved.json()["bans"]
    assert (ban["scope"], ban["value"]) == ("account", ann.id)
    banned = await post_message(ann, cid, "still here?")
    assert banned.status_code == 403, "the account ban bites on REST"
    assert banned.json()["error"]["code"] == "banned"


async def test_reporting_a_conversation_is_for_its_members_only(server: Server) -> None:
    ann, bob, eve = (
        await new_user(server, "Ann"),
        await new_user(server, "Bob"),
        await new_user(server, "Eve"),
    )
    cid = await channel(ann, bob)
    other = await channel(eve, bob)
    msg = (await post_message(ann, cid, "hi")).json()["id"]
    eve_msg = (await post_message(eve, other, "elsewhere")).json()["id"]
    own = (await post_message(bob, cid, "mine")).json()["id"]

    outsider = await report(eve, {"channelId": cid, "messageId": msg, "reason": "spam"})
    assert outsider.status_code == 403
    wrong_channel = await report(bob, {"channelId": cid, "messageId": eve_msg, "reason": "spam"})
    assert wrong_channel.status_code == 404
    mine = await report(bob, {"channelId": cid, "messageId": own, "reason": "spam"})
    assert mine.status_code == 400
    unknown = await report(bob, {"channelId": "0" * 32, "reason": "spam"})
    assert unknown.status_code == 404
    both = await report(bob, {"channelId": cid, "sessionId": "0" * 32, "reason": "spam"})
    assert both.status_code == 400
    neither = await report(bob, {"reason": "spam"})
    assert neither.status_code == 400
    stray = await report(bob, {"sessionId": "0" * 32, "messageId": msg, "reason": "spam"})
    assert stray.status_code == 400
    evidence = await report(bob, {"channelId": cid, "reason": "spam", "evidence": "AAAA"})
    assert evidence.status_code == 400
    async with loopback_client(base_url=server.http) as http:
        guest = await guest_token(server.http)
        r = await http.post(
            "/api/reports",
            json={"channelId": cid, "reason": "spam"},
            headers={"Authorization": f"Bearer {guest}"},
        )
        assert r.status_code == 401


async def test_every_new_route_checks_who_calls_it(server: Server) -> None:
    """No token, a guest token, the user, another user, a moderator and an admin."""
    ann, bob, carl = (
        await new_user(server, "Ann"),
        await new_user(server, "Bob"),
        await new_user(server, "Carl"),
    )
    admin, _, _ = await new_admin(server)
    mod = await new_moderator(server, admin)
    cid = await channel(ann, bob)
    msg = (await post_message(bob, cid, "x")).json()["id"]
    guest = {"Authorization": f"Bearer {await guest_token(server.http)}"}

    async def anon(method: str, path: str, headers: dict[str, str], **kw: Any) -> int:
        async with loopback_client(base_url=server.http) as http:
            return (await http.request(method, path, headers=headers, **kw)).status_code

    routes: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"/api/users/{bob.id}/block", {}),
        ("DELETE", f"/api/users/{bob.id}/block", {}),
        ("GET", "/api/blocks", {}),
        ("POST", "/api/reports", {"json": {"channelId": cid, "reason": "spam"}}),
    ]
    for method, path, kw in routes:
        assert await anon(method, path, {}, **kw) == 401, (method, path, "no token")
        assert await anon(method, path, guest, **kw) == 401, (method, path, "guest")
        assert await anon(method, path, {"Authorization": "Bearer x.y.z"}, **kw) == 401

    # The user: blocks are their own list; the report is theirs to file.
    assert (await ann.call("POST", f"/api/users/{bob.id}/block")).status_code == 204
    # Another user blocking the same person only changes the other user's own list.
    assert (await carl.call("POST", f"/api/users/{bob.id}/block")).status_code == 204
    assert (await carl.call("DELETE", f"/api/users/{bob.id}/block")).status_code == 204
    assert [b["user"]["id"] for b in (await ann.call("GET", "/api/blocks")).json()["blocks"]] == [
        bob.id
    ]
    assert (await carl.call("GET", "/api/blocks")).json()["blocks"] == []
    assert (await ann.call("DELETE", f"/api/users/{bob.id}/block")).status_code == 204
    filed = await report(ann, {"channelId": cid, "messageId": msg, "reason": "spam"})
    assert filed.status_code == 201
    assert (await report(carl, {"channelId": cid, "reason": "spam"})).status_code == 403
    # Staff are accounts too: they manage their own blocks, but are no member of the channel.
    for staff in (mod, admin):
        assert (await staff.call("POST", f"/api/users/{bob.id}/block")).status_code == 204
        assert (await staff.call("GET", "/api/blocks")).status_code == 200
        assert (await staff.call("DELETE", f"/api/users/{bob.id}/block")).status_code == 204
        assert (await report(staff, {"channelId": cid, "reason": "spam"})).status_code == 403
    # Only staff see the queue item.
    for outsider in (ann, carl):
        r = await outsider.call("GET", f"/api/admin/reports/{filed.json()['id']}")
        assert r.status_code == 403
    assert (await mod.call("GET", f"/api/admin/reports/{filed.json()['id']}")).status_code == 200
