"""The gateway's upgrade goes straight to picows; everything else still to uvicorn.

A new connection's first read decides (:class:`connect.gateway.handover.FirstRead`):
a whole ``GET /ws`` upgrade is handed to picows without uvicorn parsing it first;
an upgrade that arrives in pieces, on another path, or any HTTP request goes to
uvicorn's protocol as before. These tests hold the rules on both sides of that
decision against a real server: the upgrade either way, the client's address from a
trusted proxy's header, a 404 for other paths, the web app for a plain ``GET /ws``,
and a graceful shutdown (1012 to a welcomed socket, a silent connection closed).
The choice itself is checked with a stand-in transport (the server gives no sign of
which path a request took).
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson
import pytest

from connect.gateway import handover
from tests.support.client import Peer, guest_token
from tests.support.rawws import RawSocket
from tests.support.server import Server

WAIT_S = 10.0


def upgrade_request(path: str = "/ws", extra: str = "", connection: str = "Upgrade") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: {connection}\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    ).encode()


async def raw_upgrade(srv: Server, pieces: list[bytes]) -> tuple[RawSocket, int]:
    """Send the request in ``pieces`` (each written and drained apart); the answer's status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    for piece in pieces:
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.05)  # not synchronisation: so the server likely reads them apart
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT_S)
    return RawSocket(reader, writer), int(head.split(b" ", 2)[1])


async def hello(sock: RawSocket, srv: Server) -> dict[str, Any]:
    token = await guest_token(srv.http)
    sock.send_frame(0x1, orjson.dumps({"event": "hello", "data": {"token": token}}))
    _, payload = await sock.read_frame(WAIT_S)
    frame: dict[str, Any] = orjson.loads(payload)
    return frame


@pytest.fixture(scope="module")
def srv(make_server: Callable[[Mapping[str, str]], Server]) -> Server:
    return make_server(
        {"CONNECT_TRUSTED_PROXIES": "127.0.0.1", "CONNECT_GEOIP_HEADER": "X-Country"}
    )


@pytest.mark.parametrize("split", [False, True], ids=["one-read", "in-pieces"])
async def test_upgrade_whole_or_in_pieces_is_served(srv: Server, split: bool) -> None:
    request = upgrade_request("/ws?v=1")
    sock, status = await raw_upgrade(srv, [request[:20], request[20:]] if split else [request])
    assert status == 101
    assert (await hello(sock, srv))["event"] == "welcome"
    sock.close()


@pytest.mark.parametrize("split", [False, True], ids=["one-read", "in-pieces"])
async def test_a_trusted_proxys_headers_reach_the_gateway(srv: Server, split: bool) -> None:
    # The country header of a trusted proxy (127.0.0.1 here) is the visitor's detected
    # country, which the join's ack reports.
    request = upgrade_request(extra="X-Country: DE\r\nX-Forwarded-For: 198.51.100.7\r\n")
    sock, status = await raw_upgrade(srv, [request[:30], request[30:]] if split else [request])
    assert status == 101
    assert (await hello(sock, srv))["event"] == "welcome"
    sock.send_frame(0x1, orjson.dumps({"event": "queue-status", "data": {}, "id": 7}))
    while True:
        frame = orjson.loads((await sock.read_frame(WAIT_S))[1])
        if frame.get("ack") == 7:
            break
    assert frame["ok"] is True
    assert frame["country"] == "DE"
    sock.close()


async def test_other_paths_and_plain_requests(srv: Server) -> None:
    sock, status = await raw_upgrade(srv, [upgrade_request("/wsx")])
    assert status == 404
    sock.close()
    sock, status = await raw_upgrade(srv, [upgrade_request("/not-the-gateway")])
    assert status == 404
    sock.close()
    # Connection without "upgrade": not an upgrade, so uvicorn and the web app answer.
    sock, status = await raw_upgrade(srv, [upgrade_request(connection="keep-alive")])
    assert status != 101
    sock.close()
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{srv.http}/ws")).status_code != 101
        assert (await http.get(f"{srv.http}/health")).status_code == 200


async def test_graceful_shutdown(make_server: Callable[[Mapping[str, str]], Server]) -> None:
    own = make_server({})
    peer = await Peer.connect(own.ws, await guest_token(own.http))
    silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", own.port)
    own.proc.send_signal(signal.SIGTERM)
    code, _ = await peer.wait_closed()
    assert code == 1012
    async with asyncio.timeout(WAIT_S):
        assert await silent_reader.read() == b""  # closed by the server, nothing sent
    silent_writer.close()
    await asyncio.to_thread(own.proc.wait, WAIT_S)


class StandInTransport:
    """What :class:`handover.FirstRead` uses of a transport, and the protocol it set."""

    def __init__(self) -> None:
        self.protocol: Any = None
        self.closed = False

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def close(self) -> None:
        self.closed = True


class Recorded:
    """uvicorn's HTTP protocol, as far as FirstRead calls it."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.data = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.data += data


class ServerState:
    def __init__(self) -> None:
        self.connections: set[Any] = set()


@pytest.mark.parametrize(
    ("data", "to_picows"),
    [
        (upgrade_request(), True),
        (upgrade_request("/ws?resume=1"), True),
        (upgrade_request(connection="keep-alive, Upgrade"), True),
        (upgrade_request().replace(b"Upgrade: websocket", b"UPGRADE:WebSocket"), True),
        (upgrade_request()[:40], False),  # not whole in the first read
        (upgrade_request("/wsx"), False),
        (upgrade_request("/api/ws"), False),
        (upgrade_request(connection="keep-alive"), False),
        (upgrade_request(connection="x-upgrade"), False),
        (upgrade_request().replace(b"websocket", b"h2c"), False),
        (b"POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", False),
        (b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", False),
    ],
)
def test_first_read_decides(data: bytes, to_picows: bool) -> None:
    assert handover.is_gateway_upgrade(data) is to_picows
    state = ServerState()
    transport = StandInTransport()
    engine: Any = object()
    first = handover.FirstRead(engine, Recorded, "config", state, {}, None)
    first.connection_made(transport)
    assert state.connections == {first}
    if to_picows:
        return  # picows' protocol needs a real socket: served in the tests above
    first.data_received(data)
    assert isinstance(transport.protocol, Recorded)
    assert transport.protocol.data == data
    assert transport.protocol.kwargs["server_state"] is state
    assert state.connections == set()


def test_first_read_shutdown_closes_a_silent_connection() -> None:
    state = ServerState()
    transport = StandInTransport()
    engine: Any = object()
    first = handover.FirstRead(engine, Recorded, "config", state, {}, None)
    first.connection_made(transport)
    first.shutdown()
    assert transport.closed
    first.connection_lost(None)
    assert state.connections == set()
