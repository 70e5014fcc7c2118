"""Bad frames get the contract's errors and never disturb anyone else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

import httpx
import orjson
import pytest

from tests.support.client import Peer, guest_token, paired
from tests.support.http import loopback_client
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

    async with loopback_client(base_url=strict_server.http) as http:
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
    async with loopback_client(base_url=srv.http) as http:
        assert (await http.get("/health")).status_code == 200
    stalled.transport.abort()
    await sender.close()


# -- REST input bounds (issue 14: bounded input everywhere), on both backends --------

NUL = "a\x00b"
BIG = [2**31, 2**63, 10**30]


async def raw_exchange(server: Server, *requests: bytes) -> list[tuple[int, bytes]]:
    """Send requests one after another on ONE keep-alive connection; (status, body) each.

    A request the server answered and then dropped the connection for shows up
    as a missing answer: the keep-alive survives every refusal.
    """
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    answers = []
    try:
        for request in requests:
            writer.write(request)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                assert name.strip().lower() != b"connection" or value.strip() != b"close", head
            body = await asyncio.wait_for(reader.readexactly(length), 10)
            answers.append((status, body))
    finally:
        writer.close()
    return answers


def http_request(method: str, path: str, body: bytes = b"", token: str | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def refused_as_invalid(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request", response.text


async def test_nul_is_refused_with_400_in_every_field_without_dropping_the_connection(
    server: Server,
) -> None:
    from tests.support.staff import new_admin
    from tests.support.users import new_user

    alice = await new_user(server, "Alice")
    bob = await new_user(server, "Bob")
    admin, _, _ = await new_admin(server)
    r = await alice.call("POST", "/api/channels", json={"userId": bob.id})
    assert r.status_code == 200, r.text
    channel = r.json()["id"]
    email = f"nul-{alice.id[:8]}@example.test"
    cases: list[tuple[str, str, dict[str, object] | None, str | None]] = [
        (
            "POST",
            "/api/auth/signup",
            {"email": email, "password": "p" * 12, "displayName": NUL},
            None,
        ),
        (
            "POST",
            "/api/auth/signup",
            {"email": "a\x00" + email, "password": "p" * 12, "displayName": "N"},
            None,
        ),
        ("POST", "/api/auth/login", {"email": alice.email, "password": NUL}, None),
        ("POST", "/api/auth/token", {"deviceId": "device\x00001"}, None),
        ("PUT", "/api/auth/profile", {"displayName": NUL}, alice.access),
        (
            "POST",
            f"/api/channels/{channel}/messages",
            {"text": NUL, "clientId": "c1"},
            alice.access,
        ),
        ("GET", "/api/users?query=a%00b", None, alice.access),
        ("GET", f"/api/channels/{channel}/messages?after=0&x=%00", None, alice.access),
        ("POST", "/api/admin/bans", {"scope": "ip", "value": NUL, "reason": "r"}, admin.access),
        (
            "POST",
            "/api/admin/bans",
            {"scope": "ip", "value": "1.2.3.4", "reason": NUL},
            admin.access,
        ),
        ("POST", "/api/admin/warnings", {"subject": alice.id, "message": NUL}, admin.access),
        ("POST", "/api/admin/warnings", {"subject": NUL, "message": "m"}, admin.access),
    ]
    requests = []
    for method, path, body, token in cases:
        raw = orjson.dumps(body) if body is not None else b""
        assert body is None or b"\\u0000" in raw
        requests.append(http_request(method, path, raw, token))
    requests.append(http_request("GET", "/health"))
    answers = await raw_exchange(server, *requests)
    assert len(answers) == len(cases) + 1
    for (method, path, _, _), (status, body) in zip(cases, answers, strict=False):
        assert status == 400, (method, path, status, body)
        assert orjson.loads(body)["error"]["code"] == "invalid_request", (path, body)
    assert answers[-1][0] == 200
    # Nothing was half-applied: the profile and the channel are as they were.
    assert (await alice.call("GET", "/api/auth/me")).json()["displayName"] == "Alice"
    history = await alice.call("GET", f"/api/channels/{channel}/messages")
    assert history.json()["messages"] == []


async def test_nul_lookalikes_are_ordinary_text(server: Server) -> None:
    """A backslash followed by ``u0000`` is text, not a NUL: stored and read back as typed."""
    from tests.support.users import new_user

    user = await new_user(server, "Lookalike")
    for name in ["back\\u0000slash", "\\\\u0000", "u0000"]:
        r = await user.call("PUT", "/api/auth/profile", json={"displayName": name})
        assert r.status_code == 200, r.text
        assert (await user.call("GET", "/api/auth/me")).json()["displayName"] == name


async def test_json_bodies_must_be_utf8(server: Server) -> None:
    """UTF-16 JSON (which Python's parser would accept) cannot smuggle an escaped NUL past;
    bytes that are not UTF-8 at all are malformed input like any other."""
    json_type = {"content-type": "application/json"}
    async with loopback_client(base_url=server.http) as http:
        body = '{"deviceId": "device\\u0000x"}'.encode("utf-16")
        refused_as_invalid(await http.post("/api/auth/token", content=body, headers=json_type))
        body = b'{"deviceId": "device\xff\xfe01"}'
        refused_as_invalid(await http.post("/api/auth/token", content=body, headers=json_type))


@pytest.mark.parametrize("value", BIG)
async def test_cursors_beyond_the_column_are_refused(server: Server, value: int) -> None:
    from tests.support.staff import new_admin
    from tests.support.users import new_user

    alice = await new_user(server, "Cursor")
    bob = await new_user(server, "Other")
    channel = (await alice.call("POST", "/api/channels", json={"userId": bob.id})).json()["id"]
    admin, _, _ = await new_admin(server)
    refused_as_invalid(await alice.call("GET", f"/api/channels/{channel}/messages?after={value}"))
    refused_as_invalid(await admin.call("GET", f"/api/admin/audit-log?before={value}"))
    refused_as_invalid(
        await alice.call("POST", f"/api/channels/{channel}/read", json={"seq": value})
    )
    # The largest value that fits is an ordinary cursor.
    top = 2**31 - 1
    ok = await alice.call("GET", f"/api/channels/{channel}/messages?after={top}")
    assert ok.status_code == 200, ok.text
    assert (await admin.call("GET", f"/api/admin/audit-log?before={top}")).status_code == 200
    read = await alice.call("POST", f"/api/channels/{channel}/read", json={"seq": True})
    refused_as_invalid(read)


async def test_bodies_over_the_limit_get_413_declared_or_chunked(server: Server) -> None:
    from tests.support.users import new_user

    user = await new_user(server, "Big")

    async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
        sent = 0
        while sent < total:
            yield b"x" * min(size, total - sent)
            sent += size

    async with loopback_client(base_url=server.http, headers=user.headers) as http:
        # Declared length over the bound.
        r = await http.put(
            "/api/auth/profile", content=b" " * 70_000, headers={"content-type": "application/json"}
        )
        assert r.status_code == 413, r.text
        # Streamed (chunked, no length) JSON over the bound.
        r = await http.put(
            "/api/auth/profile",
            content=chunks(70_000),
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "payload_too_large"
        # A chunked multipart upload over the avatar bound (2 MiB).
        boundary = "bound4ry"

        async def upload() -> AsyncIterator[bytes]:
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                'filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode() + b"\x89PNG\r\n\x1a\n"
            async for chunk in chunks(3 * 1024 * 1024):
                yield chunk
            yield f"\r\n--{boundary}--\r\n".encode()

        r = await http.post(
            "/api/auth/avatar",
            content=upload(),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "payload_too_large"
        # The server is still answering, and small bodies still pass.
        r = await http.put("/api/auth/profile", json={"displayName": "Small"})
        assert r.status_code == 200, r.text


async def test_405_lists_every_method_of_the_path(server: Server) -> None:
    async with loopback_client(base_url=server.http) as http:
        r = await http.request("OPTIONS", "/api/channels")
        preview = await http.request("OPTIONS", "/api/admin/bans/preview")
        patch = await http.patch("/api/admin/bans/preview", json={})
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST"}
    # The static path is its own resource, not a ban id of DELETE /api/admin/bans/{id}.
    assert preview.status_code == 405
    assert preview.headers["allow"] == "POST"
    assert patch.status_code == 405, patch.text
    assert patch.headers["allow"] == "POST"


async def test_warning_subjects_fit_the_audit_log(server: Server) -> None:
    """A subject is audited typed (80 characters): what no guest or account can be is a 400."""
    from tests.support.staff import new_admin

    admin, _, _ = await new_admin(server)
    for subject in ["0" * 79, "guest:" + "a" * 65, "a" * 65, "user:" + "x" * 32, "short"]:
        r = await admin.call(
            "POST", "/api/admin/warnings", json={"subject": subject, "message": "m"}
        )
        refused_as_invalid(r)
    for subject in ["a" * 64, "guest:" + "b" * 64, "user:" + "c" * 32]:
        r = await admin.call(
            "POST", "/api/admin/warnings", json={"subject": subject, "message": "m"}
        )
        assert r.status_code == 200, r.text


async def test_openapi_states_the_real_errors_and_refuses_nul(server: Server) -> None:
    async with loopback_client(base_url=server.http) as http:
        doc = (await http.get("/api/openapi.json")).json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            statuses = set(op["responses"])
            assert "422" not in statuses, (method, path)
            if path.startswith("/api/"):
                assert {"400", "401", "403", "404", "409", "413", "429", "503"} <= statuses, path
    text = doc["components"]["schemas"]["MessageIn"]["properties"]["text"]
    assert text["pattern"] == "^[^\\x00]*$"
    query = next(p for p in doc["paths"]["/api/users"]["get"]["parameters"] if p["name"] == "query")
    assert query["schema"]["pattern"] == "^[^\\x00]*$"


async def test_invalid_utf8_on_the_asgi_engine_is_one_line_not_a_traceback(
    make_server: Callable[[Mapping[str, str]], Server],
) -> None:
    from tests.support.rawws import RawSocket

    srv = make_server({"CONNECT_WS_ENGINE": "asgi", "CONNECT_LOG_LEVEL": "info"})
    sock, status = await RawSocket.upgrade("127.0.0.1", srv.port)
    assert status == 101
    sock.send_frame(0x1, b'{"event":"hello","data":{"token":"\xff\xfe"}}')
    assert await sock.close_code() == 1007
    sock.close()
    async with loopback_client(base_url=srv.http) as http:
        assert (await http.get("/health")).status_code == 200
    log = srv.log()
    assert "Invalid UTF-8" in log
    assert "Traceback" not in log, log


async def test_nul_in_an_upload_filename_is_refused(server: Server) -> None:
    """Multipart fields are beyond the JSON guard: the filename is checked where it is read."""
    from tests.support.users import new_user

    alice = await new_user(server, "Uploader")
    bob = await new_user(server, "Peer")
    channel = (await alice.call("POST", "/api/channels", json={"userId": bob.id})).json()["id"]
    boundary = "b0und"

    def form(filename: str) -> bytes:
        return (
            f'--{boundary}\r\nContent-Disposition: form-data; name="channelId"\r\n\r\n{channel}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
            f"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
        ).encode()

    headers = {**alice.headers, "content-type": f"multipart/form-data; boundary={boundary}"}
    async with loopback_client(base_url=server.http, headers=headers) as http:
        refused_as_invalid(await http.post("/api/attachments", content=form("a\x00b.txt")))
        ok = await http.post("/api/attachments", content=form("notes.txt"))
    assert ok.status_code == 201, ok.text
    assert ok.json()["filename"] == "notes.txt"
