"""Trust where features meet: one identity space, and bans that bite at every entry point.

Each test runs against memory+SQLite and Redis+PostgreSQL. The server trusts
loopback as a proxy, so a test speaks from any address it names in
X-Forwarded-For.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS, backend_settings
from tests.support.client import Peer, guest_token, new_device
from tests.support.http import loopback_client
from tests.support.server import Server
from tests.support.staff import StaffClient, new_admin, new_moderator
from tests.support.users import User, new_user


@pytest.fixture(scope="module", params=BACKENDS)
def trust_server(
    request: pytest.FixtureRequest, make_server: Callable[[Mapping[str, str]], Server]
) -> Server:
    overrides = {"CONNECT_TRUSTED_PROXIES": "127.0.0.1/32", "CONNECT_RATE_LOGIN": "1000/minute"}
    if request.param != "memory-sqlite":
        overrides |= backend_settings(request.param, request.getfixturevalue("backing_services"))
    return make_server(overrides)


@pytest.fixture(scope="module")
async def admin(trust_server: Server) -> StaffClient:
    client, _, _ = await new_admin(trust_server)
    return client


def _from(ip: str, token: str | None = None) -> dict[str, str]:
    headers = {"X-Forwarded-For": ip}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


async def _req(
    srv: Server, method: str, path: str, headers: dict[str, str], body: Any = None
) -> httpx.Response:
    async with loopback_client(base_url=srv.http) as http:
        return await http.request(method, path, json=body, headers=headers)


async def _token_from(srv: Server, ip: str, device: str | None = None) -> httpx.Response:
    return await _req(
        srv, "POST", "/api/auth/token", _from(ip), {"deviceId": device or new_device()}
    )


def _random_ip() -> str:
    return f"198.51.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


# -- one identity space ----------------------------------------------------------


async def test_guest_with_an_account_id_as_device_gets_none_of_the_accounts_pushes(
    trust_server: Server,
) -> None:
    """The attack: a guest token whose device id is an account's id.

    Before typed subjects the gateway grouped sockets by the bare id, so this
    guest received the account's messages, typing, reactions and rings, could
    claim its resume token and took over calls answered without connectionId.
    """
    srv = trust_server
    alice, bob = await new_user(srv, "Alice"), await new_user(srv, "Bob")
    r = await _token_from(srv, _random_ip(), device=bob.id)
    assert r.status_code == 200, "a device id may look like anything; it is namespaced instead"
    intruder = await Peer.connect(srv.ws, r.json()["token"])
    bob_phone = await bob.device()

    channel = (await alice.call("POST", "/api/channels", json={"userId": bob.id})).json()
    sent = await alice.call(
        "POST",
        f"/api/channels/{channel['id']}/messages",
        json={"text": "for Bob only", "clientId": secrets.token_hex(8)},
    )
    assert sent.status_code == 201, sent.text
    assert (await bob_phone.event("channel-message"))["text"] == "for Bob only"
    a_dev = await alice.device()
    await a_dev.request("channel-typing", {"channelId": channel["id"], "active": True})
    await bob_phone.event("channel-typing")
    react = await alice.call(
        "POST", f"/api/messages/{sent.json()['id']}/reactions", json={"emoji": "👍"}
    )
    assert react.status_code == 204
    await bob_phone.event("message-reaction")
    ring = await alice.call(
        "POST",
        "/api/calls",
        json={"calleeId": bob.id, "media": "video", "connectionId": a_dev.welcome["connectionId"]},
    )
    assert ring.status_code == 201, ring.text
    await bob_phone.event("incoming-call")

    # The intruder may still use its own socket; the barrier proves every frame
    # sent to it before this point has been read.
    await intruder.barrier()
    got = {frame.get("event") for frame in intruder.inbox}
    assert got.isdisjoint(
        {"channel-message", "channel-typing", "message-reaction", "incoming-call"}
    )

    # Accepting without a connectionId picks one of Bob's devices, never the guest.
    accepted = await bob.call(
        "POST", f"/api/calls/{ring.json()['callId']}/respond", json={"accept": True}
    )
    assert accepted.status_code == 200, accepted.text
    assert (await bob_phone.event("call-accepted"))["callId"] == ring.json()["callId"]
    await intruder.barrier()
    assert all(frame.get("event") != "call-accepted" for frame in intruder.inbox)

    # Bob's resume token does not give the guest Bob's place.
    stolen = await Peer.connect(srv.ws, r.json()["token"], resume=bob_phone.welcome["resumeToken"])
    assert stolen.welcome["resumed"] is False
    assert stolen.welcome["connectionId"] != bob_phone.welcome["connectionId"]

    # And the guest token is no account token on REST.
    me = await _req(srv, "GET", "/api/auth/me", _from(_random_ip(), r.json()["token"]))
    assert me.status_code == 401
    typing = await intruder.request("channel-typing", {"channelId": channel["id"], "active": True})
    assert typing["ok"] is False
    for peer in (intruder, stolen, bob_phone, a_dev):
        await peer.close()


# -- bans at every entry point ---------------------------------------------------


async def _ban(admin: StaffClient, scope: str, value: str, **extra: Any) -> httpx.Response:
    return await admin.call(
        "POST",
        "/api/admin/bans",
        json={"scope": scope, "value": value, "reason": "test ban", **extra},
    )


def _assert_banned(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["error"]["code"] == "banned"
    ban: dict[str, Any] = body["ban"]
    assert ban["reason"] == "test ban"
    assert set(ban) >= {"until", "reason", "appeal"}
    assert ban["appeal"]["token"]
    return ban


async def test_an_account_ban_bites_on_login_refresh_rest_and_gateway(
    trust_server: Server, admin: StaffClient
) -> None:
    srv = trust_server
    mallory, victim = await new_user(srv, "Mallory"), await new_user(srv, "Victim")
    ip = _random_ip()
    async with loopback_client(base_url=srv.http) as http:
        login = await http.post(
            "/api/auth/login",
            json={"email": mallory.email, "password": mallory.password},
            headers=_from(ip),
        )
    refresh_token = login.json()["refreshToken"]
    device = await mallory.device()

    r = await _ban(admin, "account", mallory.email.upper())
    assert r.status_code == 201, r.text
    assert r.json()["value"] == mallory.id, "an email is resolved to the account id"
    code, _ = await device.wait_closed()
    assert code == 4003

    for method, path, body in (
        ("GET", "/api/auth/me", None),
        ("GET", "/api/channels", None),
        ("POST", "/api/channels", {"userId": victim.id}),
        ("POST", "/api/calls", {"calleeId": victim.id, "media": "audio"}),
        ("GET", "/api/users?query=Vic", None),
    ):
        _assert_banned(await _req(srv, method, path, _from(ip, mallory.access), body))
    async with loopback_client(base_url=srv.http) as http:
        again = await http.post(
            "/api/auth/login",
            json={"email": mallory.email, "password": mallory.password},
            headers=_from(_random_ip()),
        )
        _assert_banned(again)
        _assert_banned(
            await http.post(
                "/api/auth/refresh", json={"refreshToken": refresh_token}, headers=_from(ip)
            )
        )
        wrong = await http.post(
            "/api/auth/login",
            json={"email": mallory.email, "password": "not the password"},
            headers=_from(_random_ip()),
        )
    assert wrong.status_code == 401, "a wrong password never learns of the ban"
    refused = await Peer.connect(srv.ws, mallory.access, hello=False)
    await refused.emit("hello", {"token": mallory.access})
    banned = await refused.event("banned")
    assert banned["reason"] == "test ban"
    assert (await refused.wait_closed())[0] == 4003
    # Appeals stay open to the banned account.
    appeal = await _req(
        srv,
        "POST",
        "/api/appeals",
        _from(ip, mallory.access),
        {"banId": banned["appeal"]["banId"], "text": "it was not me"},
    )
    assert appeal.status_code == 201, appeal.text


async def test_a_typed_address_and_range_ban_match_the_addresses_they_name(
    trust_server: Server, admin: StaffClient
) -> None:
    srv = trust_server
    one = f"203.0.113.{secrets.randbelow(200) + 1}"
    r = await _ban(admin, "ip", one)
    assert r.status_code == 201, r.text
    assert r.json()["value"] != one, "the address is stored as its salted hash"
    _assert_banned(await _token_from(srv, one))
    assert (await _token_from(srv, "203.0.113.250")).status_code == 200

    net = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    user = await new_user(srv, "Ranger")
    token = (await _token_from(srv, f"{net}.9")).json()["token"]
    inside = await Peer.connect(srv.ws, token, headers=_from(f"{net}.9"))
    preview = await admin.call(
        "POST", "/api/admin/bans/preview", json={"scope": "ip", "value": f"{net}.77/24"}
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["description"] == f"every address in {net}.0/24 (256 addresses)"
    assert preview.json()["descriptionCode"] == "range"
    assert preview.json()["descriptionParams"] == {"range": f"{net}.0/24", "count": "256"}
    r = await _ban(admin, "ip", f"{net}.0/24", durationHours=1)
    assert r.status_code == 201, r.text
    assert r.json()["value"] == preview.json()["value"]
    code, _ = await inside.wait_closed()
    assert code == 4003, "a live socket inside the range is closed"
    for last in (1, 128, 254):
        _assert_banned(await _token_from(srv, f"{net}.{last}"))
    _assert_banned(await _req(srv, "GET", "/api/auth/me", _from(f"{net}.3", user.access)))
    assert (await _req(srv, "GET", "/api/auth/me", _from(_random_ip(), user.access))).is_success
    outside = f"{net.rsplit('.', 1)[0]}.{(int(net.rsplit('.', 1)[1]) + 1) % 250}.9"
    assert (await _token_from(srv, outside)).status_code == 200
    # Staff are exempt from address bans so a shared network cannot lock them out.
    moderator = await new_moderator(srv, admin)
    assert (
        await _req(srv, "GET", "/api/admin/stats", _from(f"{net}.5", moderator.access))
    ).status_code == 200


async def test_device_bans_bite_on_tokens_and_rest(
    trust_server: Server, admin: StaffClient
) -> None:
    srv = trust_server
    device = new_device()
    token = await guest_token(srv.http, device)
    assert (await _ban(admin, "device", f"guest:{device}")).status_code == 201
    _assert_banned(await _token_from(srv, _random_ip(), device))
    _assert_banned(await _req(srv, "GET", "/api/ice-config", _from(_random_ip(), token)))


@pytest.mark.parametrize(
    ("scope", "value", "message", "reason", "params"),
    [
        ("ip", "alice@example.test", "an IP ban needs an address", "ban_ip_format", {}),
        (
            "ip",
            "0.0.0.0/0",
            "a range wider than /8 is refused",
            "ban_range_too_wide",
            {"prefix": 8},
        ),
        ("ip", "2001:db8::/16", "a range wider than /24", "ban_range_too_wide", {"prefix": 24}),
        ("ip", "999.1.1.1", "an IP ban needs an address", "ban_ip_format", {}),
        ("account", "nobody@example.test", "no account has this id", "ban_unknown_account", {}),
        ("account", "0" * 32, "no account has this id or email", "ban_unknown_account", {}),
        ("account", "guest:0123456789ab", "that is a guest device", "ban_device_as_account", {}),
        ("device", "short", "a device id is 8 to 64", "ban_device_id_format", {}),
        ("device", "has spaces in it", "a device id is 8 to 64", "ban_device_id_format", {}),
        ("device", "user:0123456789abcdef", "that is an account", "ban_account_as_device", {}),
    ],
)
async def test_staff_ban_input_is_validated(
    trust_server: Server,
    admin: StaffClient,
    scope: str,
    value: str,
    message: str,
    reason: str,
    params: dict[str, Any],
) -> None:
    """The English message stays (a fallback); ``reason`` and ``params`` are what the UI says."""
    for path, extra in (("/api/admin/bans/preview", {}), ("/api/admin/bans", {"reason": "x"})):
        r = await admin.call("POST", path, json={"scope": scope, "value": value, **extra})
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["code"] == "invalid_request"
        assert message in error["message"]
        assert (error["reason"], error["params"]) == (reason, params)


async def test_ban_preview_names_what_it_matches_by_code(
    trust_server: Server, admin: StaffClient
) -> None:
    """Accounts and IPv6 networks too come with a code and parameters, not only English."""
    user = await new_user(trust_server, "Zoë")
    cases = [
        ("account", user.email, "account", {"name": "Zoë", "email": user.email}),
        ("ip", "2001:db8:1:2::7", "ipv6_network", {"address": "2001:db8:1:2::7"}),
        (
            "ip",
            "2001:db8::/32",
            "range",
            {"range": "2001:db8::/32", "count": str(2**96)},
        ),
        ("ip", "192.0.2.7", "address", {"address": "192.0.2.7"}),
        ("ip", "0" * 32, "hash", {}),
        ("device", "guest:abcdefgh1234", "device", {"value": "abcdefgh1234"}),
    ]
    for scope, value, code, params in cases:
        r = await admin.call(
            "POST", "/api/admin/bans/preview", json={"scope": scope, "value": value}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["descriptionCode"], body["descriptionParams"]) == (code, params), value
        assert body["description"], "the English description stays for older clients"


async def test_ban_preview_authorization(trust_server: Server, admin: StaffClient) -> None:
    srv = trust_server
    body = {"scope": "ip", "value": "192.0.2.1"}
    user: User = await new_user(srv, "Plain")
    other: User = await new_user(srv, "Other")
    moderator = await new_moderator(srv, admin)
    guest = await guest_token(srv.http)
    expect = {
        None: 401,
        guest: 401,
        user.access: 403,
        other.access: 403,
        moderator.access: 200,
        admin.access: 200,
    }
    for token, status in expect.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = await _req(srv, "POST", "/api/admin/bans/preview", headers, body)
        assert r.status_code == status, (token, r.text)
