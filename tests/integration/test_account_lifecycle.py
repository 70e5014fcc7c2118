"""Account lifecycle over real HTTP and WebSockets, on both backends: password change,
reset by mail through a real SMTP server on loopback (aiosmtpd), logout that ends the access
token at once, and admins changing roles and disabling accounts (audited)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import BACKENDS, backend_settings
from tests.support.client import Peer, guest_token
from tests.support.http import loopback_client
from tests.support.server import Server, free_port, start_server
from tests.support.staff import new_admin

WEB = "http://web.example.test"
LINK = re.compile(re.escape(WEB) + r"/#/contacts/reset/([A-Za-z0-9_-]+)")
MAIL_WAIT_S = 10.0


# ------------------------------------------------------------------ a real SMTP server


class Inbox:
    """Mails an aiosmtpd server received, by recipient; waited for with a deadline."""

    def __init__(self) -> None:
        self._mails: list[tuple[list[str], EmailMessage]] = []
        self._cond = threading.Condition()
        self.held: dict[str, threading.Event] = {}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for rcpt in envelope.rcpt_tos:
            gate = self.held.get(str(rcpt).lower())
            if gate is not None:  # the test keeps this mail in the SMTP session until it says
                await asyncio.to_thread(gate.wait, MAIL_WAIT_S)
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._cond:
            self._mails.append(([str(r).lower() for r in envelope.rcpt_tos], message))
            self._cond.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._cond:
            return [m for rcpts, m in self._mails if address.lower() in rcpts]

    def _wait(self, address: str, count: int, timeout: float) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for rcpts, m in self._mails if address.lower() in rcpts]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no mail #{count} to {address} within {timeout} s")
                self._cond.wait(left)

    async def wait(self, address: str, count: int = 1) -> EmailMessage:
        return (await asyncio.to_thread(self._wait, address, count, MAIL_WAIT_S))[count - 1]


def reset_token(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    match = LINK.search(body.get_content())
    assert match is not None, body.get_content()
    return match.group(1)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@dataclass
class Node:
    server: Server
    overrides: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module", params=BACKENDS)
def node(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp: tuple[Inbox, int],
) -> Iterator[Node]:
    overrides = {
        "CONNECT_SMTP_URL": f"smtp://127.0.0.1:{smtp[1]}",
        "CONNECT_MAIL_FROM": "Connect <noreply@connect.example.test>",
        "CONNECT_PUBLIC_URL": WEB,
        "CONNECT_RATE_PASSWORD_RESET": "10000/hour",
        "CONNECT_RATE_PASSWORD_RESET_EMAIL": "3/hour",
    }
    if request.param != "memory-sqlite":
        overrides |= backend_settings(request.param, request.getfixturevalue("backing_services"))
    srv = start_server(tmp_path_factory.mktemp("lifecycle"), overrides)
    yield Node(srv, overrides)
    srv.stop()


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


# ------------------------------------------------------------------ accounts over the API


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

    async def again(self, password: str | None = None) -> Login:
        """A second login (another device) of the same account."""
        return await login(self.server, self.email, password or self.password)


async def post(server: Server, path: str, body: Any, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with loopback_client(base_url=server.http) as http:
        return await http.post(path, json=body, headers=headers)


async def login(server: Server, address: str, password: str) -> Login:
    r = await post(server, "/api/auth/login", {"email": address, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    async with loopback_client(base_url=server.http) as http:
        me = await http.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {body['accessToken']}"}
        )
    return Login(
        server,
        me.json()["id"],
        address,
        password,
        body["accessToken"],
        body["refreshToken"],
    )


async def signup(server: Server, name: str = "User") -> Login:
    address = f"{name.lower()}-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(12)
    r = await post(
        server, "/api/auth/signup", {"email": address, "password": password, "displayName": name}
    )
    assert r.status_code == 201, r.text
    return await login(server, address, password)


async def staff(server: Server, admin: Login, role: str) -> Login:
    address = f"{role}-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(12)
    r = await admin.call(
        "POST",
        "/api/admin/staff",
        json={"email": address, "password": password, "displayName": role, "role": role},
    )
    assert r.status_code == 201, r.text
    return await login(server, address, password)


async def admin_of(server: Server) -> Login:
    _client, address, password = await new_admin(server)
    return await login(server, address, password)


async def me_status(user: Login, token: str | None = None) -> int:
    return (await user.call("GET", "/api/auth/me", token)).status_code


async def refresh_status(server: Server, refresh: str) -> int:
    return (await post(server, "/api/auth/refresh", {"refreshToken": refresh})).status_code


# ------------------------------------------------------------------ password change


async def test_change_password_ends_every_other_login_and_keeps_this_one(node: Node) -> None:
    srv = node.server
    here = await signup(srv, "Ann")
    there = await here.again()
    socket_here = await Peer.connect(srv.ws, here.access)
    socket_there = await Peer.connect(srv.ws, there.access)
    new = "a brand new password"

    r = await here.call(
        "POST", "/api/auth/password", json={"currentPassword": "wrong-one!", "newPassword": new}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (403, "wrong_password")
    r = await here.call(
        "POST",
        "/api/auth/password",
        json={"currentPassword": here.password, "newPassword": "short"},
    )
    assert r.status_code == 400

    r = await here.call(
        "POST", "/api/auth/password", json={"currentPassword": here.password, "newPassword": new}
    )
    assert r.status_code == 204, r.text
    assert await me_status(there) == 401, "the other login's access token ends at once"
    assert await refresh_status(srv, there.refresh) == 401
    code, _ = await socket_there.wait_closed()
    assert code == 4001
    await socket_here.barrier()  # this login's socket stays open
    assert await me_status(here) == 200
    assert await refresh_status(srv, here.refresh) == 200
    r = await post(srv, "/api/auth/login", {"email": here.email, "password": here.password})
    assert r.status_code == 401, "the old password no longer works"
    await here.again(new)
    await socket_here.close()


# ------------------------------------------------------------------ logout


async def test_logout_makes_the_access_token_unusable_at_once(node: Node) -> None:
    srv = node.server
    phone = await signup(srv, "Bo")
    laptop = await phone.again()
    phone_socket = await Peer.connect(srv.ws, phone.access)
    laptop_socket = await Peer.connect(srv.ws, laptop.access)
    assert await me_status(phone) == 200

    r = await phone.call("POST", "/api/auth/logout", json={"refreshToken": phone.refresh})
    assert r.status_code == 204
    assert await me_status(phone) == 401
    assert (await phone.call("GET", "/api/channels")).status_code == 401
    assert await refresh_status(srv, phone.refresh) == 401
    assert (await phone_socket.wait_closed())[0] == 4001
    with pytest.raises(AssertionError):  # a new hello with the ended login's token is refused
        await Peer.connect(srv.ws, phone.access)
    # the other device's login is untouched
    assert await me_status(laptop) == 200
    await laptop_socket.barrier()
    await laptop_socket.close()


async def test_a_replayed_refresh_token_ends_the_login_and_its_socket(node: Node) -> None:
    srv = node.server
    user = await signup(srv, "Kim")
    r = await post(srv, "/api/auth/refresh", {"refreshToken": user.refresh})
    rotated = r.json()
    socket = await Peer.connect(srv.ws, rotated["accessToken"])
    r = await post(srv, "/api/auth/refresh", {"refreshToken": user.refresh})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "refresh_reused")
    assert (await socket.wait_closed())[0] == 4001
    assert await me_status(user, rotated["accessToken"]) == 401


async def test_logout_on_one_node_closes_the_socket_on_another(node: Node, tmp_path: Path) -> None:
    if "CONNECT_REDIS_URL" not in node.overrides:
        pytest.skip("one node without Redis: there is no other node")
    other = start_server(tmp_path / "second", node.overrides)
    try:
        user = await signup(node.server, "Cy")
        far = await Peer.connect(other.ws, user.access)
        r = await user.call("POST", "/api/auth/logout", json={"refreshToken": user.refresh})
        assert r.status_code == 204
        assert (await far.wait_closed())[0] == 4001
        async with loopback_client(base_url=other.http) as http:
            r = await http.get("/api/auth/me", headers={"Authorization": f"Bearer {user.access}"})
        assert r.status_code == 401
    finally:
        other.stop()


# ------------------------------------------------------------------ reset by mail


async def test_reset_by_mail_sets_the_password_once_and_ends_every_login(
    node: Node, inbox: Inbox
) -> None:
    srv = node.server
    user = await signup(srv, "Di")
    socket = await Peer.connect(srv.ws, user.access)
    unknown = f"nobody-{secrets.token_hex(4)}@example.test"

    r = await post(srv, "/api/auth/password-reset", {"email": unknown})
    assert (r.status_code, r.content) == (202, b"")
    r = await post(srv, "/api/auth/password-reset", {"email": user.email.upper()})
    assert (r.status_code, r.content) == (202, b"")
    mail = await inbox.wait(user.email)
    assert mail["From"] == "Connect <noreply@connect.example.test>"
    assert mail["To"] == user.email
    token = reset_token(mail)
    assert inbox.to(unknown) == [], "no mail for an address without an account"
    assert token not in srv.log(), "the token is never logged"

    new = "reset to something else"
    r = await post(srv, "/api/auth/password-reset/confirm", {"token": token, "newPassword": new})
    assert r.status_code == 204, r.text
    assert await me_status(user) == 401, "every login ends"
    assert await refresh_status(srv, user.refresh) == 401
    assert (await socket.wait_closed())[0] == 4001
    await user.again(new)
    r = await post(srv, "/api/auth/login", {"email": user.email, "password": user.password})
    assert r.status_code == 401

    r = await post(
        srv, "/api/auth/password-reset/confirm", {"token": token, "newPassword": "x" * 12}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_reset_token")
    await user.again(new)  # the replay changed nothing


async def test_a_new_reset_mail_voids_the_previous_link(node: Node, inbox: Inbox) -> None:
    srv = node.server
    user = await signup(srv, "Ed")
    tokens = []
    for n in (1, 2):  # asked again once the first mail is in, as a person would
        assert (
            await post(srv, "/api/auth/password-reset", {"email": user.email})
        ).status_code == 202
        tokens.append(reset_token(await inbox.wait(user.email, n)))
    first, second = tokens
    assert first != second
    r = await post(
        srv, "/api/auth/password-reset/confirm", {"token": first, "newPassword": "y" * 12}
    )
    assert r.json()["error"]["code"] == "invalid_reset_token"
    r = await post(
        srv, "/api/auth/password-reset/confirm", {"token": second, "newPassword": "y" * 12}
    )
    assert r.status_code == 204


async def test_reset_refusals_bad_tokens_and_input(node: Node) -> None:
    srv = node.server
    for token in ("A" * 43, "B" * 20, "C" * 128):
        r = await post(
            srv, "/api/auth/password-reset/confirm", {"token": token, "newPassword": "z" * 12}
        )
        assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_reset_token")
    for body in (
        {"token": "short", "newPassword": "z" * 12},
        {"token": "A" * 129, "newPassword": "z" * 12},
        {"token": "A/" * 20, "newPassword": "z" * 12},
        {"token": "A" * 43, "newPassword": "short"},
        {"token": "A" * 43, "newPassword": "z" * 257},
        {"token": "A" * 43},
    ):
        r = await post(srv, "/api/auth/password-reset/confirm", body)
        assert r.status_code == 400, body
    for body in (
        {"email": "not-an-email"},
        {"email": "a@b.c" + "x" * 300},
        {},
        {"email": 5},
        {"email": "nul\u0000@example.test"},
        {"email": "a@example.test", "extra": True},
    ):
        assert (await post(srv, "/api/auth/password-reset", body)).status_code == 400, body
    for body in (
        {"token": "A" * 43, "newPassword": "with a \u0000 inside"},
        {"token": ["A" * 43], "newPassword": "z" * 12},
    ):
        r = await post(srv, "/api/auth/password-reset/confirm", body)
        assert r.status_code == 400, body
    assert "Traceback" not in srv.log()


async def test_reset_requests_are_limited_per_email_the_same_for_unknown_addresses(
    node: Node, inbox: Inbox
) -> None:
    srv = node.server
    user = await signup(srv, "Fay")
    unknown = f"ghost-{secrets.token_hex(4)}@example.test"
    for address in (user.email, unknown):
        codes = [
            (await post(srv, "/api/auth/password-reset", {"email": address})).status_code
            for _ in range(4)
        ]
        assert codes == [202, 202, 202, 429], address
    r = await post(srv, "/api/auth/password-reset", {"email": unknown})
    assert r.json()["error"]["code"] == "rate_limited"
    assert r.json()["retryAfterMs"] > 0
    await inbox.wait(user.email, 3)


async def test_reset_answers_before_any_lookup_or_mail(node: Node, inbox: Inbox) -> None:
    """Known and unknown addresses get the same 202, sent before the account is looked up.

    The mail to the known address is held inside the SMTP session; were the route to wait
    for the lookup or the mail, its answer could not arrive while the mail is held (the
    client gives up after ``MAIL_WAIT_S / 2``). The answer's time therefore cannot tell
    whether an account exists, without measuring it.
    """
    srv = node.server
    known = (await signup(srv, "Held")).email
    unknown = f"none-{secrets.token_hex(4)}@example.test"
    gate = inbox.held.setdefault(known.lower(), threading.Event())
    try:
        async with loopback_client(base_url=srv.http, timeout=MAIL_WAIT_S / 2) as http:
            answers = [
                await http.post("/api/auth/password-reset", json={"email": address})
                for address in (known, unknown)
            ]
        assert inbox.to(known) == [], "the mail is still held, yet the answer came"
    finally:
        gate.set()
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].content == answers[1].content == b""
    assert await inbox.wait(known), "the held mail goes out once released"


# ------------------------------------------------------------------ admins: roles and disabling


async def test_admin_demotes_promotes_disables_and_reenables_audited(node: Node) -> None:
    srv = node.server
    admin = await admin_of(srv)
    mod = await staff(srv, admin, "moderator")
    socket = await Peer.connect(srv.ws, mod.access)

    r = await admin.call("PATCH", f"/api/admin/accounts/{mod.id}", json={"role": "user"})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "user"
    assert (await mod.call("GET", "/api/admin/stats")).status_code == 403, "demoted at once"
    staff_ids = [a["id"] for a in (await admin.call("GET", "/api/admin/staff")).json()["staff"]]
    assert mod.id not in staff_ids
    found = (await admin.call("GET", "/api/admin/accounts", params={"email": mod.email})).json()
    assert [a["id"] for a in found["accounts"]] == [mod.id]
    r = await admin.call("PATCH", f"/api/admin/accounts/{mod.id}", json={"role": "moderator"})
    assert r.json()["role"] == "moderator"
    assert (await mod.call("GET", "/api/admin/stats")).status_code == 200

    r = await admin.call("PATCH", f"/api/admin/accounts/{mod.id}", json={"disabled": True})
    assert r.status_code == 200
    assert r.json()["disabled"] is True
    assert (await socket.wait_closed())[0] == 4001, "a disabled account's sockets close"
    assert await me_status(mod) == 401
    assert await refresh_status(srv, mod.refresh) == 401
    r = await post(srv, "/api/auth/login", {"email": mod.email, "password": mod.password})
    assert r.status_code == 403
    with pytest.raises(AssertionError):
        await Peer.connect(srv.ws, mod.access)

    r = await admin.call("PATCH", f"/api/admin/accounts/{mod.id}", json={"disabled": False})
    assert r.json()["disabled"] is False
    assert await me_status(mod) == 401, "re-enabling does not revive the ended logins"
    again = await mod.again()
    assert (await again.call("GET", "/api/admin/stats")).status_code == 200

    entries = (await admin.call("GET", "/api/admin/audit-log")).json()["entries"]
    mine = [e for e in entries if e["targetId"] == mod.id]
    assert [e["action"] for e in mine][:4] == [
        "account.enable",
        "account.disable",
        "account.role",
        "account.role",
    ]
    assert all(e["actorId"] == admin.id for e in mine[:4])
    assert (await admin.call("GET", "/api/admin/audit-log/verify")).json()["ok"] is True


async def test_the_last_admin_and_oneself_cannot_be_demoted_or_disabled(node: Node) -> None:
    srv = node.server
    admin = await admin_of(srv)
    for change in ({"role": "moderator"}, {"disabled": True}, {"role": "user", "disabled": True}):
        r = await admin.call("PATCH", f"/api/admin/accounts/{admin.id}", json=change)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "cannot_change_self")
    second = await staff(srv, admin, "admin")
    # the first admin demotes the second; the second (now a moderator) may not answer back
    r = await admin.call("PATCH", f"/api/admin/accounts/{second.id}", json={"role": "moderator"})
    assert r.status_code == 200
    r = await second.call("PATCH", f"/api/admin/accounts/{admin.id}", json={"role": "user"})
    assert r.status_code == 403
    assert await me_status(admin) == 200


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(node: Node) -> None:
    srv = node.server
    first = await admin_of(srv)
    # Other tests' admins exist on this shared server: disable them so these two are the last.
    async with loopback_client(base_url=srv.http) as http:
        headers = {"Authorization": f"Bearer {first.access}"}
        listed = (await http.get("/api/admin/staff", headers=headers)).json()["staff"]
        for a in listed:
            if a["role"] == "admin" and a["id"] != first.id and not a["disabled"]:
                r = await http.patch(
                    f"/api/admin/accounts/{a['id']}", json={"disabled": True}, headers=headers
                )
                assert r.status_code == 200, r.text
    second = await staff(srv, first, "admin")
    results = await asyncio.gather(
        first.call("PATCH", f"/api/admin/accounts/{second.id}", json={"role": "moderator"}),
        second.call("PATCH", f"/api/admin/accounts/{first.id}", json={"role": "moderator"}),
    )
    codes = sorted(r.status_code for r in results)
    assert codes in ([200, 403], [200, 409]), [r.text for r in results]
    roles = {
        a["id"]: a["role"]
        for a in (
            await (first if results[0].status_code == 200 else second).call(
                "GET", "/api/admin/staff"
            )
        ).json()["staff"]
    }
    assert sorted([roles[first.id], roles[second.id]]) == ["admin", "moderator"]


async def test_admin_input_is_checked(node: Node) -> None:
    srv = node.server
    admin = await admin_of(srv)
    user = await signup(srv, "Gil")
    for body in ({}, {"role": "root"}, {"disabled": "yes"}, {"role": "user", "extra": 1}):
        r = await admin.call("PATCH", f"/api/admin/accounts/{user.id}", json=body)
        assert r.status_code == 400, body
    r = await admin.call("PATCH", f"/api/admin/accounts/{'0' * 32}", json={"role": "user"})
    assert r.status_code == 404
    for bad in ("nothex", "0" * 33, "%27%20OR%201=1"):
        r = await admin.call("PATCH", f"/api/admin/accounts/{bad}", json={"role": "user"})
        assert r.status_code in (400, 404), bad
    r = await admin.call("GET", "/api/admin/accounts", params={"email": "%"})
    assert r.status_code in (200, 400)
    if r.status_code == 200:
        assert r.json()["accounts"] == [], "an exact lookup, never a pattern"


# ------------------------------------------------------------------ who may call what


async def test_each_new_route_as_nobody_guest_user_other_user_moderator_and_admin(
    node: Node, inbox: Inbox
) -> None:
    srv = node.server
    admin = await admin_of(srv)
    mod = await staff(srv, admin, "moderator")
    user = await signup(srv, "Hal")
    other = await signup(srv, "Ivy")
    guest = await guest_token(srv.http)
    callers: dict[str, str | None] = {
        "nobody": None,
        "guest": guest,
        "user": user.access,
        "other user": other.access,
        "moderator": mod.access,
        "admin": admin.access,
    }

    async def call(method: str, path: str, token: str | None, **kw: Any) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with loopback_client(base_url=srv.http) as http:
            r = await http.request(method, path, headers=headers, **kw)
        assert r.status_code < 500, r.text
        return r.status_code

    # change password: the caller's own account only, and it needs the caller's password
    expected_change = {
        "nobody": 401,
        "guest": 401,
        "user": 403,
        "other user": 403,
        "moderator": 403,
        "admin": 403,
    }
    for who, token in callers.items():
        body = {"currentPassword": user.password, "newPassword": "n" * 12}
        if who == "user":
            body = {"currentPassword": "not the password", "newPassword": "n" * 12}
        assert await call("POST", "/api/auth/password", token, json=body) == expected_change[who], (
            who
        )
    assert await me_status(user) == 200, "nobody changed the user's password"
    await user.again()

    # reset: public, the same answer for everyone (and never for another account's password)
    for who, token in callers.items():
        body = {"email": f"{who.replace(' ', '')}-{secrets.token_hex(3)}@example.test"}
        assert await call("POST", "/api/auth/password-reset", token, json=body) == 202, who
        body2 = {"token": "Q" * 43, "newPassword": "n" * 12}
        assert await call("POST", "/api/auth/password-reset/confirm", token, json=body2) == 400

    # admin routes: only an admin
    expected_admin = {
        "nobody": 401,
        "guest": 401,
        "user": 403,
        "other user": 403,
        "moderator": 403,
        "admin": 200,
    }
    for who, token in callers.items():
        code = await call("PATCH", f"/api/admin/accounts/{other.id}", token, json={"role": "user"})
        assert code == expected_admin[who], who
        code = await call("GET", "/api/admin/accounts", token, params={"email": other.email})
        assert code == expected_admin[who], who
    # a user cannot promote themselves or disable another user
    assert (
        await call("PATCH", f"/api/admin/accounts/{user.id}", user.access, json={"role": "admin"})
        == 403
    )
    assert (
        await call("PATCH", f"/api/admin/accounts/{other.id}", user.access, json={"disabled": True})
        == 403
    )
    assert await me_status(other) == 200


async def test_dev_without_smtp_writes_the_mail_to_the_outbox(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "dev", {"CONNECT_PUBLIC_URL": WEB})
    try:
        user = await signup(srv, "Jo")
        assert (
            await post(srv, "/api/auth/password-reset", {"email": user.email})
        ).status_code == 202
        outbox = srv.data_dir / "outbox"
        deadline = time.monotonic() + MAIL_WAIT_S
        files: list[Path] = []
        while time.monotonic() < deadline and not files:
            files = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
            await asyncio.sleep(0.05)  # polling the outbox, bounded by the deadline
        assert len(files) == 1
        message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        assert message["To"] == user.email
        token = reset_token(message)
        r = await post(
            srv, "/api/auth/password-reset/confirm", {"token": token, "newPassword": "o" * 12}
        )
        assert r.status_code == 204
        await user.again("o" * 12)
    finally:
        srv.stop()
