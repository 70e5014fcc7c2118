"""The two WebSocket engines (picows, the default, and the ASGI fallback) behave alike.

The rest of the integration suite runs on the default engine; this module
runs the transport-level rules on both: relay, fragments, size limits,
invalid UTF-8, the heartbeat that drops a silent peer, unknown paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import orjson
import pytest

from tests.support.client import Peer, guest_token, paired
from tests.support.rawws import RawSocket
from tests.support.server import Server

HEARTBEAT_S = 0.3


@pytest.fixture(scope="module", params=["picows", "asgi"])
def engine_server(
    request: pytest.FixtureRequest, make_server: Callable[[Mapping[str, str]], Server]
) -> Server:
    return make_server(
        {"CONNECT_WS_ENGINE": request.param, "CONNECT_HEARTBEAT_S": str(HEARTBEAT_S)}
    )


def address(srv: Server) -> tuple[str, int]:
    return "127.0.0.1", srv.port


async def test_relay_and_bad_frames(engine_server: Server) -> None:
    a, b, _, _ = await paired(engine_server.ws, engine_server.http, "text")
    await a.request("send-message", {"text": "hello over this engine"})
    assert (await b.event("message"))["text"] == "hello over this engine"
    await b.send_raw(b"\x00\x01")
    err = await b.take(lambda f: f.get("event") == "error", "error")
    assert err["data"]["code"] == "invalid_frame"
    await a.send_raw(
        orjson.dumps({"event": "send-message", "data": {"text": "x" * 70_000}}).decode()
    )
    code, _ = await a.wait_closed()
    assert code == 4009
    assert (await b.event("peer-reconnecting")) == {}
    await b.close()


async def test_fragmented_message_is_reassembled(engine_server: Server) -> None:
    peer = await Peer.connect(engine_server.ws, await guest_token(engine_server.http))
    await peer.ws.send(iter(['{"event":"pi', 'ng","id":', "41}"]))
    ack = await peer.take(lambda f: f.get("ack") == 41, "ack 41")
    assert ack["ok"] is True
    await peer.close()


async def test_fragments_beyond_the_message_limit_close_1009(engine_server: Server) -> None:
    sock, status = await RawSocket.upgrade(*address(engine_server))
    assert status == 101
    hello = {"event": "hello", "data": {"token": await guest_token(engine_server.http)}}
    sock.send_frame(0x1, orjson.dumps(hello))
    assert b'"welcome"' in (await sock.read_frame())[1]
    # Four times the frame limit in four fragments, then one byte more in the last one:
    # the server has read everything when it refuses, so its close frame is not lost.
    sock.send_frame(0x1, b"x" * 65536, fin=False)
    for _ in range(3):
        sock.send_frame(0x0, b"x" * 65536, fin=False)
    sock.send_frame(0x0, b"x", fin=True)
    assert await sock.close_code() == 1009
    sock.close()


async def test_invalid_utf8_closes_1007(engine_server: Server) -> None:
    sock, status = await RawSocket.upgrade(*address(engine_server))
    assert status == 101
    sock.send_frame(0x1, b'{"event":"hello","data":{"token":"\xff\xfe"}}')
    assert await sock.close_code() == 1007
    sock.close()


async def test_heartbeat_drops_a_silent_peer_and_keeps_an_answering_one(
    engine_server: Server,
) -> None:
    answering = await Peer.connect(engine_server.ws, await guest_token(engine_server.http))
    silent, status = await RawSocket.upgrade(*address(engine_server))
    assert status == 101
    hello = {"event": "hello", "data": {"token": await guest_token(engine_server.http)}}
    silent.send_frame(0x1, orjson.dumps(hello))
    await silent.until_eof(timeout=HEARTBEAT_S * 10)
    silent.close()
    # Idle as long as the silent one, but it answered the pings: still served.
    assert (await answering.request("ping"))["ok"] is True
    await answering.close()


async def test_upgrade_on_another_path_is_refused(engine_server: Server) -> None:
    sock, status = await RawSocket.upgrade(*address(engine_server), path="/not-the-gateway")
    assert status != 101
    sock.close()
