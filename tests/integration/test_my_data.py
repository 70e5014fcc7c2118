"""Sessions and my data over real HTTP and WebSockets, on both backends: the list of my
signed-in devices, signing one or all others out, the export ZIP (what is in it, and
nothing of anyone else), deleting my account, and who may call each route."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS, backend_settings
from tests.support.client import Peer, guest_token
from tests.support.http import loopback_client
from tests.support.server import Server, start_server
from tests.support.staff import new_admin, new_moderator

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture(scope="module", params=BACKENDS)
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    overrides: dict[str, str] = {}
    if request.param != "memory-sqlite":
        overrides |= backend_settings(request.param, request.getfixturevalue("backing_services"))
    server = start_server(tmp_path_factory.mktemp("mydata"), overrides)
    yield server
    server.stop()


@dataclass
class Login:
    server: Server
    id: str
    email: str
    password: str
    access: str
    refresh: str

    async def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.access}"}
        async with loopback_client(base_url=self.server.http) as http:
            return await http.request(method, path, headers=headers, **kwargs)

    async def again(self, agent: str | None = None) -> Login:
        return await login(self.server, self.email, self.password, agent)


async def login(server: Server, email: str, password: str, agent: str | None = None) -> Login:
    headers = {"User-Agent": agent} if agent else {}
    async with loopback_client(base_url=server.http) as http:
        r = await http.post(
            "/api/auth/login", json={"email": email, "password": password}, headers=headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        me = await http.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {body['accessToken']}"}
        )
    return Login(
        server, me.json()["id"], email, password, body["accessToken"], body["refreshToken"]
    )


async def signup(server: Server, name: str, agent: str | None = None) -> Login:
    email = f"{name.lower()}-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(12)
    async with loopback_client(base_url=server.http) as http:
        r = await http.post(
            "/api/auth/signup", json={"email": email, "password": password, "displayName": name}
        )
    assert r.status_code == 201, r.text
    return await login(server, email, password, agent)


async def refresh(server: Server, token: str) -> httpx.Response:
    async with loopback_client(base_url=server.http) as http:
        return await http.post("/api/auth/refresh", json={"refreshToken": token})


async def sessions(user: Login, token: str | None = None) -> list[dict[str, Any]]:
    r = await user.call("GET", "/api/auth/sessions", token)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["sessions"]
    return rows


async def channel(a: Login, b: Login) -> str:
    r = await a.call("POST", "/api/channels", json={"userId": b.id})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def send(user: Login, cid: str, text: str, **extra: Any) -> dict[str, Any]:
    r = await user.call(
        "POST",
        f"/api/channels/{cid}/messages",
        json={"text": text, "clientId": uuid.uuid4().hex, **extra},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def upload(user: Login, cid: str, name: str, data: bytes) -> str:
    r = await user.call(
        "POST",
        "/api/attachments",
        data={"channelId": cid},
        files={"file": (name, data, "image/png")},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def export(user: Login) -> zipfile.ZipFile:
    r = await user.call("GET", "/api/auth/export")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith('attachment; filename="connect-export-')
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert archive.testzip() is None
    return archive


def avatar_files(server: Server) -> set[str]:
    folder = server.data_dir / "avatars"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def entry(archive: zipfile.ZipFile, name: str) -> Any:
    return json.loads(archive.read(name))


# ------------------------------------------------------------------ sessions


async def test_sessions_list_two_logins_with_labels_and_marks_the_current(srv: Server) -> None:
    phone = await signup(srv, "Ana", CHROME_ANDROID)
    laptop = await phone.again(FIREFOX_WINDOWS)
    rows = await sessions(phone)
    assert len(rows) == 2
    by_label = {r["browser"]: r for r in rows}
    assert set(by_label) == {"Chrome on Android", "Firefox on Windows"}
    assert by_label["Chrome on Android"]["current"] is True
    assert by_label["Firefox on Windows"]["current"] is False
    assert set(rows[0]) == {"id", "createdAt", "lastUsedAt", "browser", "current"}
    assert CHROME_ANDROID not in srv.log(), "the User-Agent is never logged"

    # a refresh of the laptop's login moves its lastUsedAt and puts it first
    before = by_label["Firefox on Windows"]["lastUsedAt"]
    r = await refresh(srv, laptop.refresh)
    assert r.status_code == 200
    rows = await sessions(phone)
    assert rows[0]["browser"] == "Firefox on Windows"
    assert rows[0]["lastUsedAt"] >= before
    assert [r["current"] for r in await sessions(laptop, r.json()["accessToken"])].count(True) == 1


async def test_revoking_one_session_closes_its_socket_and_its_refresh_fails(srv: Server) -> None:
    phone = await signup(srv, "Ben", CHROME_ANDROID)
    laptop = await phone.again(FIREFOX_WINDOWS)
    laptop_socket = await Peer.connect(srv.ws, laptop.access)
    phone_socket = await Peer.connect(srv.ws, phone.access)
    target = next(r["id"] for r in await sessions(phone) if not r["current"])

    r = await phone.call("DELETE", f"/api/auth/sessions/{target}")
    assert r.status_code == 204, r.text
    assert (await laptop_socket.wait_closed())[0] == 4001
    assert (await refresh(srv, laptop.refresh)).status_code == 401
    assert (await laptop.call("GET", "/api/auth/me")).status_code == 401
    assert [r["current"] for r in await sessions(phone)] == [True]
    await phone_socket.barrier()  # mine stays open
    r = await phone.call("DELETE", f"/api/auth/sessions/{target}")
    assert r.status_code == 404, "an ended login is not found again"
    await phone_socket.close()


async def test_revoke_others_keeps_only_the_current_login(srv: Server) -> None:
    here = await signup(srv, "Cat", FIREFOX_WINDOWS)
    others = [await here.again(CHROME_ANDROID) for _ in range(2)]
    sockets = [await Peer.connect(srv.ws, o.access) for o in others]
    mine = await Peer.connect(srv.ws, here.access)

    r = await here.call("POST", "/api/auth/sessions/revoke-others")
    assert (r.status_code, r.json()) == (200, {"revoked": 2})
    for socket in sockets:
        assert (await socket.wait_closed())[0] == 4001
    for other in others:
        assert (await refresh(srv, other.refresh)).status_code == 401
    rows = await sessions(here)
    assert [row["current"] for row in rows] == [True]
    await mine.barrier()
    assert (await refresh(srv, here.refresh)).status_code == 200
    await mine.close()


async def test_revoking_on_one_node_closes_the_socket_on_another(
    srv: Server, tmp_path: Path
) -> None:
    if "CONNECT_REDIS_URL" not in srv.env:
        pytest.skip("one node without Redis: there is no other node")
    shared = {k: srv.env[k] for k in ("CONNECT_DATABASE_URL", "CONNECT_REDIS_URL")}
    other = start_server(tmp_path / "second", shared)
    try:
        here = await signup(srv, "Nia", FIREFOX_WINDOWS)
        far_login = await login(other, here.email, here.password, CHROME_ANDROID)
        far = await Peer.connect(other.ws, far_login.access)
        target = next(r["id"] for r in await sessions(here) if r["browser"] == "Chrome on Android")
        r = await here.call("DELETE", f"/api/auth/sessions/{target}")
        assert r.status_code == 204, r.text
        assert (await far.wait_closed())[0] == 4001
        assert (await refresh(other, far_login.refresh)).status_code == 401
    finally:
        other.stop()


async def test_another_users_session_is_404_and_left_alone(srv: Server) -> None:
    me = await signup(srv, "Dan")
    them = await signup(srv, "Eve")
    their_id = (await sessions(them))[0]["id"]
    r = await me.call("DELETE", f"/api/auth/sessions/{their_id}")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    assert (await them.call("GET", "/api/auth/me")).status_code == 200
    assert all(row["id"] != their_id for row in await sessions(me))


# ------------------------------------------------------------------ export


async def test_export_holds_my_data_and_nothing_of_a_third_party(srv: Server) -> None:
    me = await signup(srv, "Fay")
    friend = await signup(srv, "Gus")
    stranger = await signup(srv, "Hal")
    third = await signup(srv, "Ida")
    shared = await channel(me, friend)
    mine_sent = await send(me, shared, "hello from me")
    theirs = await send(friend, shared, "a reply from my friend")
    attachment = await upload(me, shared, "photo.png", PNG)
    await send(me, shared, "with a file", attachmentId=attachment)
    friend_file = await upload(friend, shared, "theirs.png", PNG + b"friend")
    await send(friend, shared, "their file", attachmentId=friend_file)
    # a conversation I am not in
    secret_channel = await channel(stranger, third)
    await send(stranger, secret_channel, "private between two others")
    # my avatar, a block, a call, a report
    r = await me.call("POST", "/api/auth/avatar", files={"file": ("a.png", PNG, "image/png")})
    assert r.status_code == 200, r.text
    assert (await me.call("POST", f"/api/users/{stranger.id}/block")).status_code == 204
    friend_socket = await Peer.connect(srv.ws, friend.access)
    r = await me.call("POST", "/api/calls", json={"calleeId": friend.id, "media": "audio"})
    assert r.status_code == 201, r.text
    call_id = r.json()["callId"]
    assert (await me.call("POST", f"/api/calls/{call_id}/end")).status_code == 200
    await friend_socket.close()
    r = await me.call("POST", "/api/reports", json={"channelId": shared, "reason": "spam"})
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]

    archive = await export(me)
    names = set(archive.namelist())
    profile = entry(archive, "profile.json")
    assert (profile["id"], profile["email"], profile["displayName"]) == (me.id, me.email, "Fay")
    assert profile["avatar"] in names
    assert archive.read(profile["avatar"]) == PNG
    channels = entry(archive, "channels.json")
    assert [(c["id"], c["peer"]["id"]) for c in channels] == [(shared, friend.id)]
    lines = archive.read(f"messages/{shared}.jsonl").decode().splitlines()
    texts = {json.loads(line)["text"]: json.loads(line) for line in lines}
    assert texts["hello from me"]["fromMe"] is True
    assert texts["hello from me"]["id"] == mine_sent["id"]
    assert texts["a reply from my friend"]["senderId"] == friend.id
    assert texts["a reply from my friend"]["id"] == theirs["id"]
    assert f"messages/{secret_channel}.jsonl" not in names
    attachments = entry(archive, "attachments.json")
    assert [a["id"] for a in attachments] == [attachment], "only the files I uploaded"
    assert archive.read(attachments[0]["file"]) == PNG
    assert [c["id"] for c in entry(archive, "calls.json")] == [call_id]
    assert [b["userId"] for b in entry(archive, "blocks.json")] == [stranger.id]
    assert [x["id"] for x in entry(archive, "reports.json")] == [report_id]
    assert len(entry(archive, "sessions.json")) == 1
    everything = b"".join(archive.read(n) for n in names)
    for foreign in (b"private between two others", stranger.email.encode(), friend.email.encode()):
        assert foreign not in everything
    assert b"friend" not in b"".join(archive.read(n) for n in names if n.startswith("attach"))


async def test_export_is_rate_limited_per_account(srv: Server) -> None:
    user = await signup(srv, "Jo")
    for _ in range(2):
        await export(user)
    r = await user.call("GET", "/api/auth/export")
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited"
    assert r.json()["retryAfterMs"] > 0
    other = await signup(srv, "Kai")
    await export(other)  # another account's budget is its own


async def test_export_of_a_long_history_streams_in_pieces(srv: Server) -> None:
    me = await signup(srv, "Lea")
    friend = await signup(srv, "Max")
    cid = await channel(me, friend)
    # More than two pages of the export's reads, over kept-alive connections, eight
    # messages in flight (one at a time, a client each, this was most of the test's time).
    async with loopback_client(base_url=srv.http) as http:

        async def sends(start: int) -> None:
            for i in range(start, 1100, 8):
                sender = me if i % 2 else friend
                r = await http.post(
                    f"/api/channels/{cid}/messages",
                    headers={"Authorization": f"Bearer {sender.access}"},
                    json={"text": f"message number {i} " + "x" * 200, "clientId": uuid.uuid4().hex},
                )
                assert r.status_code == 201, r.text

        await asyncio.gather(*(sends(start) for start in range(8)))
    pieces = 0
    body = bytearray()
    async with loopback_client(base_url=srv.http) as http:
        headers = {"Authorization": f"Bearer {me.access}"}
        async with http.stream("GET", "/api/auth/export", headers=headers) as r:
            assert r.status_code == 200
            assert "content-length" not in r.headers, "streamed, not built in memory first"
            async for chunk in r.aiter_raw():
                pieces += 1
                body += chunk
    archive = zipfile.ZipFile(io.BytesIO(bytes(body)))
    lines = archive.read(f"messages/{cid}.jsonl").decode().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, 1101))
    assert pieces > 1


# ------------------------------------------------------------------ delete my account


async def test_delete_account(srv: Server) -> None:
    me = await signup(srv, "Ned")
    peer = await signup(srv, "Oli")
    cid = await channel(me, peer)
    await send(me, cid, "remember me")
    attachment = await upload(me, cid, "pic.png", PNG)
    await send(me, cid, "a picture", attachmentId=attachment)
    before_avatars = avatar_files(srv)
    r = await me.call(
        "POST", "/api/auth/avatar", files={"file": ("b.png", PNG + b"n", "image/png")}
    )
    assert r.status_code == 200
    assert avatar_files(srv) != before_avatars
    other_device = await me.again()
    socket = await Peer.connect(srv.ws, me.access)
    other_socket = await Peer.connect(srv.ws, other_device.access)

    r = await me.call("DELETE", "/api/auth/account", json={"password": "not my password"})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "wrong_password")
    assert (await me.call("GET", "/api/auth/me")).status_code == 200
    r = await me.call("DELETE", "/api/auth/account", json={"password": me.password})
    assert r.status_code == 204, r.text

    for s in (socket, other_socket):
        assert (await s.wait_closed())[0] == 4001
    assert (await me.call("GET", "/api/auth/me")).status_code == 401
    assert (await refresh(srv, other_device.refresh)).status_code == 401
    async with loopback_client(base_url=srv.http) as http:
        r = await http.post("/api/auth/login", json={"email": me.email, "password": me.password})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "invalid_credentials")

    # the peer keeps the conversation, from "Deleted account", without avatar or file
    r = await peer.call("GET", "/api/channels")
    [row] = r.json()["channels"]
    assert row["peer"] == {"id": me.id, "displayName": "Deleted account", "avatarUrl": None}
    r = await peer.call("GET", f"/api/channels/{cid}/messages?limit=50")
    messages = r.json()["messages"]
    assert [m["text"] for m in messages] == ["remember me", "a picture"]
    assert all(m["attachment"] is None for m in messages)
    assert (await peer.call("GET", f"/api/attachments/{attachment}")).status_code == 404
    assert (await peer.call("GET", f"/api/users/{me.id}/avatar")).status_code == 404
    r = await peer.call("GET", "/api/users", params={"query": "Deleted"})
    assert me.id not in [u["id"] for u in r.json()["users"]]
    assert avatar_files(srv) == before_avatars, "the avatar file is gone"
    r = await peer.call(
        "POST", f"/api/channels/{cid}/messages", json={"text": "hello?", "clientId": "after"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "account_deleted")

    # the audit log records the deletion; the email is free to sign up again
    admin, _, _ = await new_admin(srv)
    r = await admin.call("GET", "/api/admin/audit-log", params={"limit": 50})
    assert r.status_code == 200, r.text
    entries = [e for e in r.json()["entries"] if e["targetId"] == me.id]
    assert [e["action"] for e in entries] == ["account.delete"]
    assert me.email not in r.text
    async with loopback_client(base_url=srv.http) as http:
        r = await http.post(
            "/api/auth/signup",
            json={"email": me.email, "password": me.password, "displayName": "Ned again"},
        )
    assert r.status_code == 201, r.text
    assert r.json()["id"] != me.id
    again = await login(srv, me.email, me.password)
    assert (await again.call("GET", "/api/channels")).json()["channels"] == []
    # a re-enable by an admin cannot bring the deleted account back
    r = await admin.call("PATCH", f"/api/admin/accounts/{me.id}", json={"disabled": False})
    assert r.status_code == 409, r.text


async def test_bans_on_a_deleted_account_stay(srv: Server) -> None:
    admin, _, _ = await new_admin(srv)
    banned = await signup(srv, "Pia")
    r = await admin.call(
        "POST",
        "/api/admin/bans",
        json={"scope": "account", "value": banned.id, "reason": "abuse", "durationHours": 1},
    )
    assert r.status_code == 201, r.text
    ban_id = r.json()["id"]
    # a banned account is refused at every request, deletion included: the ban stays
    r = await banned.call("DELETE", "/api/auth/account", json={"password": banned.password})
    assert r.status_code == 403, r.text
    # an account deleted before a moderator got to it can still be banned by its id
    gone = await signup(srv, "Rex")
    r = await gone.call("DELETE", "/api/auth/account", json={"password": gone.password})
    assert r.status_code == 204, r.text
    r = await admin.call(
        "POST",
        "/api/admin/bans",
        json={"scope": "account", "value": gone.id, "reason": "late report", "durationHours": 1},
    )
    assert r.status_code == 201, r.text
    listed = (await admin.call("GET", "/api/admin/bans")).text
    assert ban_id in listed
    assert r.json()["id"] in listed


# ------------------------------------------------------------------ who may call what


ROUTES = [
    ("GET", "/api/auth/sessions", None),
    ("POST", "/api/auth/sessions/revoke-others", None),
    ("DELETE", "/api/auth/sessions/" + "0" * 32, None),
    ("GET", "/api/auth/export", None),
    ("DELETE", "/api/auth/account", {"password": "whatever-it-is"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_no_token_and_guest_tokens_are_refused(
    srv: Server, method: str, path: str, body: Any
) -> None:
    async with loopback_client(base_url=srv.http) as http:
        r = await http.request(method, path, json=body)
        assert r.status_code == 401, r.text
        guest = await guest_token(srv.http)
        r = await http.request(
            method, path, json=body, headers={"Authorization": f"Bearer {guest}"}
        )
        assert r.status_code == 401, r.text
        r = await http.request(method, path, json=body, headers={"Authorization": "Bearer x.y.z"})
        assert r.status_code == 401, r.text


async def test_staff_see_their_own_sessions_and_export_but_do_not_self_delete(
    srv: Server,
) -> None:
    admin_client, admin_email, admin_password = await new_admin(srv)
    moderator_client = await new_moderator(srv, admin_client)
    user = await signup(srv, "Quin")
    for staff in (admin_client, moderator_client):
        r = await staff.call("GET", "/api/auth/sessions")
        assert r.status_code == 200
        theirs = {row["id"] for row in await sessions(user)}
        assert len(r.json()["sessions"]) == 1
        assert r.json()["sessions"][0]["id"] not in theirs
        r = await staff.call("DELETE", "/api/auth/account", json={"password": admin_password})
        assert r.status_code == 403
        # a staff member cannot end a user's login either
        user_session = (await sessions(user))[0]["id"]
        r = await staff.call("DELETE", f"/api/auth/sessions/{user_session}")
        assert r.status_code == 404
    r = await admin_client.call("DELETE", "/api/auth/account", json={"password": admin_password})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "staff_account")
    r = await admin_client.call("GET", "/api/auth/export")
    assert r.status_code == 200
    profile = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("profile.json"))
    assert (profile["email"], profile["role"]) == (admin_email, "admin")
    assert (await user.call("GET", "/api/auth/me")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/api/auth/sessions/not-hex", None),
        ("DELETE", "/api/auth/sessions/" + "A" * 32, None),
        ("DELETE", "/api/auth/sessions/" + "0" * 33, None),
        ("DELETE", "/api/auth/account", {}),
        ("DELETE", "/api/auth/account", {"password": ""}),
        ("DELETE", "/api/auth/account", {"password": "x" * 257}),
        ("DELETE", "/api/auth/account", {"password": 12345}),
        ("DELETE", "/api/auth/account", {"password": "ok-password", "extra": 1}),
    ],
)
async def test_bad_input_is_400(srv: Server, method: str, path: str, body: Any) -> None:
    user = await signup(srv, "Ray")
    r = await user.call(method, path, json=body)
    assert r.status_code == 400, r.text
    assert "Traceback" not in srv.log()
    assert (await user.call("GET", "/api/auth/me")).status_code == 200
