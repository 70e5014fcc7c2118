"""Direct calls over real HTTP and WebSockets: ringing every device, accepting on one,
signaling between exactly the two parties, hang-up, missed, busy, and refusals."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from tests.support.server import Server
from tests.support.users import new_user

OFFER = {"type": "offer", "sdp": "v=0\r\n"}


async def test_call_rings_all_devices_one_answers_others_stop_then_signal_and_hang_up(
    server: Server,
) -> None:
    alice, bob = await new_user(server, "Alice"), await new_user(server, "Bob")
    a_dev = await alice.device()
    b_phone, b_laptop = await bob.device(), await bob.device()
    r = await alice.call(
        "POST",
        "/api/calls",
        json={"calleeId": bob.id, "media": "video", "connectionId": a_dev.welcome["connectionId"]},
    )
    assert r.status_code == 201, r.text
    call = r.json()
    assert call["status"] == "ringing"
    for device in (b_phone, b_laptop):
        ring = await device.event("incoming-call")
        assert ring["callId"] == call["callId"]
        assert ring["caller"]["displayName"] == "Alice"
        assert ring["media"] == "video"

    stolen = await alice.call("POST", f"/api/calls/{call['callId']}/respond", json={"accept": True})
    assert stolen.status_code == 403
    accepted = await bob.call(
        "POST",
        f"/api/calls/{call['callId']}/respond",
        json={"accept": True, "connectionId": b_laptop.welcome["connectionId"]},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    a_info = await a_dev.event("call-accepted")
    b_info = await b_laptop.event("call-accepted")
    assert a_info["initiator"] is True
    assert b_info["initiator"] is False
    assert a_info["sessionId"] == b_info["sessionId"]
    assert (await b_phone.event("call-accepted")) == {
        "callId": call["callId"],
        "answeredElsewhere": True,
    }

    await a_dev.request("send-offer", {"offer": OFFER})
    assert (await b_laptop.event("offer"))["offer"] == OFFER
    await b_phone.barrier()
    assert b_phone.events("offer") == [], "only the answering device takes part"

    third = await new_user(server, "Carol")
    busy = await third.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "audio"})
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "busy"

    ended = await bob.call("POST", f"/api/calls/{call['callId']}/end", json={"reason": "hangup"})
    assert ended.json()["status"] == "ended"
    assert await a_dev.event("call-ended") == {"callId": call["callId"], "reason": "hangup"}
    after = await a_dev.request("send-offer", {"offer": OFFER})
    assert after["error"]["code"] == "not_in_session"
    history = (await alice.call("GET", "/api/calls")).json()["calls"]
    assert history[0]["callId"] == call["callId"]
    assert history[0]["status"] == "ended"
    assert history[0]["durationS"] is not None
    again = await alice.call("POST", f"/api/calls/{call['callId']}/end")
    assert again.status_code == 409
    for d in (a_dev, b_phone, b_laptop):
        await d.close()


async def test_end_call_event_and_disconnect_end_the_call(server: Server) -> None:
    alice, bob = await new_user(server, "Alice"), await new_user(server, "Bob")
    a_dev, b_dev = await alice.device(), await bob.device()
    call = (
        await alice.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "audio"})
    ).json()
    await b_dev.event("incoming-call")
    await bob.call("POST", f"/api/calls/{call['callId']}/respond", json={"accept": True})
    await a_dev.event("call-accepted")
    await a_dev.request("end-call")
    assert await b_dev.event("call-ended") == {"callId": call["callId"], "reason": "hangup"}
    call2 = (
        await alice.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "audio"})
    ).json()
    await bob.call("POST", f"/api/calls/{call2['callId']}/respond", json={"accept": True})
    await b_dev.event("call-accepted")
    await a_dev.close()
    assert await b_dev.event("call-ended") == {"callId": call2["callId"], "reason": "disconnected"}
    assert (await bob.call("GET", f"/api/calls/{call2['callId']}")).json()[
        "endReason"
    ] == "disconnected"
    await b_dev.close()


async def test_refusals(server: Server) -> None:
    alice, bob = await new_user(server, "Alice"), await new_user(server, "Bob")
    self_call = await alice.call(
        "POST", "/api/calls", json={"calleeId": alice.id, "media": "video"}
    )
    assert self_call.status_code == 400
    assert self_call.json()["error"]["code"] == "cannot_call_self"
    assert (
        await alice.call("POST", "/api/calls", json={"calleeId": "0" * 32, "media": "video"})
    ).status_code == 404
    assert (
        await alice.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "hologram"})
    ).status_code == 400
    offline = await alice.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "video"})
    assert offline.status_code == 409
    assert offline.json()["error"]["code"] == "callee_offline"
    b_dev = await bob.device()
    call = (
        await alice.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "video"})
    ).json()
    await b_dev.event("incoming-call")
    await b_dev.close()  # a normal close ends the place: nothing left to answer from
    no_device = await bob.call(
        "POST", f"/api/calls/{call['callId']}/respond", json={"accept": True}
    )
    assert no_device.status_code == 409
    assert no_device.json()["error"]["code"] == "no_device"
    eve = await new_user(server, "Eve")
    assert (
        await eve.call("POST", f"/api/calls/{call['callId']}/respond", json={"accept": True})
    ).status_code == 404
    assert (await eve.call("GET", f"/api/calls/{call['callId']}")).status_code == 404
    cancelled = await alice.call("POST", f"/api/calls/{call['callId']}/end")
    assert cancelled.json()["status"] == "cancelled"


@pytest.fixture(scope="module")
def quick_ring(make_server: Callable[[Mapping[str, str]], Server]) -> Server:
    return make_server(
        {"CONNECT_CALL_RING_TIMEOUT_S": "1", "CONNECT_MATCH_SWEEP_INTERVAL_S": "0.2"}
    )


async def test_unanswered_call_is_missed_on_both_sides(quick_ring: Server) -> None:
    alice, bob = await new_user(quick_ring, "Alice"), await new_user(quick_ring, "Bob")
    a_dev, b_dev = await alice.device(), await bob.device()
    call = (
        await alice.call("POST", "/api/calls", json={"calleeId": bob.id, "media": "video"})
    ).json()
    await b_dev.event("incoming-call")
    assert await b_dev.event("call-missed", timeout=10) == {"callId": call["callId"]}
    assert await a_dev.event("call-missed", timeout=10) == {"callId": call["callId"]}
    late = await bob.call("POST", f"/api/calls/{call['callId']}/respond", json={"accept": True})
    assert late.status_code == 409
    await a_dev.close()
    await b_dev.close()
