"""Bad frames get the contract's errors and never disturb anyone else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

import httpx
import orjson
import pytest

from tests.support.client import Peer, guest_token, paired
from tests.support.server import Server

OFFER = {"type": "offer", "sdp": "v=0\r\n"}


@pytest.fixture
async def bystanders(server: Server) -> AsyncIterator[tuple[Peer, Peer]]:
    """A live pair that must be unaffected by whatever a misbehaving client does."""
    a, b, _, _ = await paired(server.ws, server.http)
    yield a, b
    await bystanders_still_talk(a, b)
    await a.close()
    await b.close()


async def bystanders_still_talk(a: Peer, b: Peer) -> None:
    await a.request("send-message", {"text": "still here"})
    assert (await b.event("message"))["text"] == "still here"


async def error_event(peer: Peer) -> dict[str, object]:
    return await peer.event("error")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1,2]", "invalid_frame"),
        ('{"data":{}}', "invalid_frame"),
        ('{"event":"join-queue","data":[]}', "invalid_frame"),
        ('{"event":"join-queue","id":"x"}', "invalid_frame"),
        ('{"event":"join-queue","extra":1}', "invalid_frame"),
        ('{"event":"no-such-event"}', "unknown_event"),
        ('{"event":"join-queue","data":{"mode":"audio"}}', "invalid_payload"),
        ('{"event":"join-queue","data":{"mode":"video","interests":"chess"}}', "invalid_payload"),
        ('{"event":"join-queue","data":{"mode":"video","bogus":true}}', "invalid_payload"),
        ('{"event":"send-message","data":{"text":12}}', "invalid_payload"),
        ('{"event":"send-offer","data":{}}', "invalid_payload"),
        (
            '{"event":"send-offer","data":{"offer":{"type":"offer","sdp":"' + "a" * 17000 + '"}}}',
            "invalid_payload",
        ),
        ('{"event":"send-message","data":{"text":"' + "x" * 1001 + '"}}', "invalid_payload"),
        (
            '{"event":"send-answer","data":{"answer":{"type":"answer","sdp":"v=0"}}}',
            "not_in_session",
        ),
    ],
)
async def test_bad_frames_get_errors_and_keep_the_connection(
    server: Server, bystanders: tuple[Peer, Peer], raw: str, code: str
) -> None:
    peer = await Peer.connect(server.ws, await guest_token(server.http))
    await peer.send_raw(raw)
    err = await error_event(peer)
    assert err["code"] == code
    assert isinstance(err["message"], str)
    await peer.barrier()
    await peer.close()


async def test_errors_for_frames_with_id_come_as_acks(server: Server) -> None:
    peer = await Peer.connect(server.ws, await guest_token(server.http))
    reply = await peer.request("no-such-event")
    assert reply["ok"] is False
    assert reply["error"]["code"] == "unknown_event"
    await peer.close()


async def test_binary_frame_is_refused(server: Server) -> None:
    peer = await Peer.connect(server.ws, await guest_token(server.http))
    await peer.send_raw(b"\x00\x01")
    assert (await error_event(peer))["code"] == "invalid_frame"
    await peer.close()


async def test_oversize_frame_closes_4009(server: Server, bystanders: tuple[Peer, Peer]) -> None:
    peer = await Peer.connect(server.ws, await guest_token(server.http))
    await peer.send_raw(
        orjson.dumps({"event": "send-message", "data": {"text": "x" * 70_000}}).decode()
    )
    code, _ = await peer.wait_closed()
    assert code == 4009


async def test_first_frame_must_be_hello(server: Server) -> None:
    peer = await Peer.connect(server.ws, None, hello=False)
    await peer.emit("join-queue", {"mode": "video"})
    assert (await error_event(peer))["code"] == "hello_required"
    assert (await peer.wait_closed())[0] == 4001


@pytest.mark.parametrize("token", ["garbage", "", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
async def test_bad_token_closes_4001(server: Server, token: str) -> None:
    peer = await Peer.connect(server.ws, None, hello=False)
    await peer.emit("hello", {"token": token})
    err = await error_event(peer)
    assert err["code"] in ("unauthorized", "invalid_payload")
    assert (await peer.wait_closed())[0] == 4001


async def test_resume_token_of_someone_else_gives_a_fresh_place(server: Server) -> None:
    a, b, _, _ = await paired(server.ws, server.http)
    thief = await Peer.connect(
        server.ws, await guest_token(server.http), resume=a.welcome["resumeToken"]
    )
    assert thief.welcome["resumed"] is False
    assert thief.welcome["connectionId"] != a.welcome["connectionId"]
    await a.request("send-message", {"text": "private"})
    assert (await b.event("message"))["text"] == "private"
    await thief.barrier()
    assert thief.events("message") == []
    for p in (a, b, thief):
        await p.close()


async def test_third_connection_cannot_inject_into_a_session(server: Server) -> None:
    a, b, ma, mb = await paired(server.ws, server.http)
    mallory = await Peer.connect(server.ws, await guest_token(server.http))
    for event, data in [
        ("send-offer", {"offer": OFFER, "peerId": ma["peerId"]}),
        ("send-candidate", {"candidate": {"candidate": "x"}, "peerId": mb["peerId"]}),
        ("send-message", {"text": "injected", "peerId": ma["peerId"]}),
        ("typing", {"active": True, "peerId": mb["peerId"]}),
        ("end-call", {"peerId": ma["peerId"]}),
    ]:
        reply = await mallory.request(event, data)
        assert reply["ok"] is False
        assert reply["error"]["code"] == "not_in_session"
    await a.barrier()
    await b.barrier()
    for peer in (a, b):
        assert not [
            f
            for f in peer.inbox
            if f.get("event") in ("offer", "candidate", "message", "typing", "peer-ended")
        ]
    # and a session of Mallory's own does not reach them either
    m2 = await Peer.connect(server.ws, await guest_token(server.http))
    tag = ["mallory-only"]
    await mallory.request("join-queue", {"mode": "video", "interests": tag})
    await m2.request("join-queue", {"mode": "video", "interests": tag})
    await mallory.event("matched")
    await m2.event("matched")
    await mallory.request("send-message", {"text": "to my own partner"})
    assert (await m2.event("message"))["text"] == "to my own partner"
    await a.barrier()
    await b.barrier()
    assert a.events("message") == b.events("message") == []
    for p in (a, b, mallory, m2):
        await p.close()


@pytest.fixture(scope="module")
def strict_server(make_server: Callable[[Mapping[str, str]], Server]) -> Server:
    return make_server(
        {
            "CONNECT_HELLO_TIMEOUT_S": "0.5",
            "CONNECT_EVENT_RATE_PER_S": "5",
            "CONNECT_EVENT_BURST": "10",
            "CONNECT_EVENT_FLOOD_REFUSALS": "20",
            "CONNECT_RATE_TOKEN": "3/minute",
            "CONNECT_RATE_CHAT": "3/minute",
        }
    )


async def test_no_hello_in_time_closes_4008(strict_server: Server) -> None:
    peer = await Peer.connect(strict_server.ws, None, hello=False)
    code, _ = await peer.wait_closed()
    assert code == 4008
    assert peer.events("error")[0]["code"] == "hello_timeout"


async def test_flood_is_rate_limited_then_closed_4008(strict_server: Server) -> None:
    token = await guest_token(strict_server.http)
    peer = await Peer.connect(strict_server.ws, token)
    calm = await Peer.connect(strict_server.ws, token)
    for _ in range(60):
        await peer.emit("typing", {"active": True})
    limited = await peer.event("rate-limited")
    assert limited["event"] == "typing"
    assert limited["retryAfterMs"] > 0
    code, _ = await peer.wait_closed()
    assert code == 4008
    await calm.barrier()
    await calm.close()


async def test_token_requests_are_rate_limited_per_ip(strict_server: Server) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=strict_server.http) as http:
        codes = [
            (await http.post("/api/auth/token", json={"deviceId": f"device{i:04d}"})).status_code
            for i in range(5)
        ]
        assert codes.count(429) >= 1
        refused = await http.post("/api/auth/token", json={"deviceId": "device9999"})
        assert refused.status_code == 429
        body = refused.json()
        assert body["error"]["code"] == "rate_limited"
        assert body["retryAfterMs"] > 0
        assert int(refused.headers["retry-after"]) >= 1


async def test_client_that_stops_reading_is_disconnected_not_buffered(
    make_server: Callable[[Mapping[str, str]], Server],
) -> None:
    """A partner that never reads fills its bounded send queue and is closed; the sender is told."""
    import websockets

    srv = make_server(
        {
            "CONNECT_SEND_BUFFER_BYTES": "65536",
            "CONNECT_EVENT_RATE_PER_S": "100000",
            "CONNECT_EVENT_BURST": "100000",
            "CONNECT_RATE_CHAT": "1000000/second",
        }
    )
    sender = await Peer.connect(srv.ws, await guest_token(srv.http))
    stalled = await websockets.connect(srv.ws, max_queue=1, max_size=None)
    await stalled.send(
        orjson.dumps({"event": "hello", "data": {"token": await guest_token(srv.http)}}).decode()
    )
    await stalled.recv()
    tag = ["stall-test"]
    await sender.request("join-queue", {"mode": "text", "interests": tag})
    await stalled.send(
        orjson.dumps({"event": "join-queue", "data": {"mode": "text", "interests": tag}}).decode()
    )
    await sender.event("matched")
    line = "x" * 1000
    sent = 0
    while not sender.events("peer-reconnecting") and sent < 50_000:
        await sender.emit("send-message", {"text": line})
        sent += 1
        if sent % 200 == 0:
            await sender.barrier()
    assert sender.events("peer-reconnecting"), f"still buffering after {sent} messages"
    async with httpx.AsyncClient(base_url=srv.http) as http:
        assert (await http.get("/health")).status_code == 200
    stalled.transport.abort()
    await sender.close()
