"""Why contacts refused, over real HTTP and WebSockets on both backends: each refusal
whose ``code`` several causes share names its ``reason`` and ``params`` (docs/protocol.md,
"Reasons with parameters"), on REST and in the gateway's nack and ``error`` event; the
autouse contract check validates every frame against the protocol's schemas."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.client import Peer, guest_token
from tests.support.server import Server
from tests.support.staff import new_admin
from tests.support.users import User, channel, new_user, post_message

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def why(r: httpx.Response) -> tuple[int, str, str | None, dict[str, Any] | None]:
    error = r.json()["error"]
    return r.status_code, error["code"], error.get("reason"), error.get("params")


async def test_conversation_message_attachment_and_report_refusals_name_their_reason(
    server: Server,
) -> None:
    ann, bob, eve = [await new_user(server, n) for n in ("Ann", "Bob", "Eve")]
    cid = await channel(ann, bob)
    mine = (await post_message(ann, cid, "hello")).json()
    theirs = (await post_message(bob, cid, "hi")).json()
    up = await ann.call(
        "POST", "/api/attachments", data={"channelId": cid}, files={"file": ("p.png", PNG)}
    )
    assert up.status_code == 201, up.text
    nobody = uuid.uuid4().hex

    cases: list[tuple[User, str, str, dict[str, Any], tuple[int, str, str]]] = [
        (ann, "POST", "/api/channels", {"json": {"userId": ann.id}},
         (400, "invalid_request", "channel_with_self")),
        (ann, "POST", "/api/channels", {"json": {"userId": nobody}},
         (404, "not_found", "user_not_found")),
        (ann, "POST", f"/api/users/{ann.id}/block", {}, (400, "invalid_request", "block_self")),
        (ann, "POST", f"/api/users/{nobody}/block", {}, (404, "not_found", "user_not_found")),
        (ann, "POST", f"/api/channels/{cid}/messages", {"json": {"text": " ", "clientId": "e1"}},
         (400, "invalid_request", "message_empty")),
        (ann, "PATCH", f"/api/messages/{mine['id']}", {"json": {"text": " "}},
         (400, "invalid_request", "message_empty")),
        (ann, "GET", f"/api/channels/{cid}/messages/search", {"params": {"q": " "}},
         (400, "invalid_request", "search_empty")),
        (ann, "PATCH", f"/api/messages/{theirs['id']}", {"json": {"text": "mine now"}},
         (403, "forbidden", "message_not_yours")),
        (ann, "DELETE", f"/api/messages/{theirs['id']}", {},
         (403, "forbidden", "message_not_yours")),
        (ann, "PATCH", f"/api/messages/{nobody}", {"json": {"text": "x"}},
         (404, "not_found", "message_not_found")),
        (eve, "POST", f"/api/messages/{mine['id']}/reactions", {"json": {"emoji": "👍"}},
         (404, "not_found", "message_not_found")),
        (eve, "GET", f"/api/channels/{cid}/messages", {}, (404, "not_found", "channel_not_found")),
        (eve, "GET", up.json()["url"], {}, (403, "forbidden", "attachment_not_member")),
        (ann, "GET", f"/api/attachments/{nobody}", {},
         (404, "not_found", "attachment_not_found")),
        (eve, "POST", "/api/reports", {"json": {"channelId": cid, "reason": "spam"}},
         (403, "forbidden", "report_not_member")),
        (ann, "POST", "/api/reports",
         {"json": {"channelId": cid, "messageId": mine["id"], "reason": "spam"}},
         (400, "invalid_request", "report_own_message")),
        (ann, "POST", "/api/reports",
         {"json": {"channelId": cid, "messageId": nobody, "reason": "spam"}},
         (404, "not_found", "message_not_found")),
    ]  # fmt: skip
    for user, method, path, kwargs, (status, code, reason) in cases:
        r = await user.call(method, path, **kwargs)
        assert why(r) == (status, code, reason, {}), (method, path, r.text)


async def test_a_block_says_which_side_blocked(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = await channel(ann, bob)
    r = await bob.call("POST", f"/api/users/{ann.id}/block")
    assert r.status_code == 204, r.text
    assert why(await post_message(ann, cid, "hello?")) == (403, "blocked", "blocked_by_them", {})
    assert why(await post_message(bob, cid, "hello")) == (403, "blocked", "blocked_by_you", {})
    call = await ann.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "audio"})
    assert why(call) == (403, "blocked", "blocked_by_them", {})


async def test_call_refusals_name_their_reason(server: Server) -> None:
    ann, bob = await new_user(server, "Ann"), await new_user(server, "Bob")
    a_dev, b_dev = await ann.device(), await bob.device()
    unknown = await ann.call(
        "POST", "/api/calls", json={"calleeId": uuid.uuid4().hex, "media": "audio"}
    )
    assert why(unknown) == (404, "not_found", "user_not_found", {})
    assert why(await ann.call("GET", f"/api/calls/{uuid.uuid4().hex}")) == (
        404, "not_found", "call_not_found", {},
    )  # fmt: skip

    placed = await ann.call(
        "POST",
        "/api/calls",
        json={"calleeId": bob.id, "media": "audio", "connectionId": a_dev.welcome["connectionId"]},
    )
    assert placed.status_code == 201, placed.text
    call_id = placed.json()["callId"]
    stolen = await ann.call("POST", f"/api/calls/{call_id}/respond", json={"accept": True})
    assert why(stolen) == (403, "not_your_call", "call_callee_only", {"action": "accept"})
    answer = {"accept": True, "connectionId": b_dev.welcome["connectionId"]}
    accepted = await bob.call("POST", f"/api/calls/{call_id}/respond", json=answer)
    assert accepted.status_code == 200, accepted.text
    again = await bob.call("POST", f"/api/calls/{call_id}/respond", json=answer)
    assert why(again) == (
        409, "invalid_call_state", "call_already_answered", {"action": "accept", "status": "accepted"},
    )  # fmt: skip
    ended = await bob.call("POST", f"/api/calls/{call_id}/end", json={"reason": "hangup"})
    assert ended.status_code == 200, ended.text
    late = await ann.call("POST", f"/api/calls/{call_id}/end", json={"reason": "hangup"})
    assert why(late) == (
        409, "invalid_call_state", "call_over", {"action": "hangup", "status": "ended"},
    )  # fmt: skip


async def test_gateway_refusals_carry_the_reason_in_the_nack_and_the_error_event(
    server: Server,
) -> None:
    """The frames are checked against the protocol's Nack and ErrorEvent schemas too:
    a reason the schema did not describe would fail this test (CONTRACT_VIOLATIONS)."""
    ann = await new_user(server, "Ann")
    dev = await ann.device()
    typing = {"channelId": uuid.uuid4().hex, "active": True}
    nack = await dev.request("channel-typing", typing)
    assert nack["ok"] is False
    assert nack["error"]["code"] == "not_found"
    assert (nack["error"]["reason"], nack["error"]["params"]) == ("channel_not_found", {})
    await dev.emit("channel-typing", typing)
    error = await dev.event("error")
    assert (error["code"], error["reason"], error["params"]) == (
        "not_found", "channel_not_found", {},
    )  # fmt: skip


async def test_guest_channels_and_missing_account_things_name_their_reason(
    server: Server,
) -> None:
    """The refusals that said only ``unauthorized`` or ``not_found``: a guest's conversation
    events (nack, checked against the Nack schema), a missing avatar, a sign-in that is not
    one's own, an unknown account in the admin routes."""
    guest = await Peer.connect(server.ws, await guest_token(server.http))
    try:
        for event, data in (
            ("channel-typing", {"channelId": uuid.uuid4().hex, "active": True}),
            ("messages-delivered", {"ids": [uuid.uuid4().hex]}),
        ):
            nack = await guest.request(event, data)
            assert nack["ok"] is False, event
            error = nack["error"]
            assert (error["code"], error["reason"], error["params"]) == (
                "unauthorized", "channels_need_account", {},
            ), event  # fmt: skip
    finally:
        await guest.close()
    ann = await new_user(server, "Ann")
    r = await ann.call("GET", f"/api/users/{ann.id}/avatar")
    assert why(r) == (404, "not_found", "avatar_not_found", {}), r.text
    r = await ann.call("DELETE", f"/api/auth/sessions/{uuid.uuid4().hex}")
    assert why(r) == (404, "not_found", "login_not_found", {}), r.text
    admin, _, _ = await new_admin(server)
    r = await admin.call(
        "PATCH", f"/api/admin/accounts/{uuid.uuid4().hex}", json={"disabled": True}
    )
    assert why(r) == (404, "not_found", "account_not_found", {}), r.text
