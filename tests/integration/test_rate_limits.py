"""Per-account limits on the routes that had none, over real HTTP on both backends.

A server of its own with low limits: each rule lets its budget through (the
route's own answer, 404 included, is not a 429), then answers 429
``rate_limited`` with ``retryAfterMs`` and ``Retry-After``, and another account
still has a budget of its own. Memory and Redis limiters are both exercised,
since the second backend shares its counts through Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS, backend_settings
from tests.support.server import Server
from tests.support.staff import new_admin
from tests.support.users import User, new_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
UNKNOWN = "0" * 32

LOW = {
    "CONNECT_RATE_AVATAR": "2/minute",
    "CONNECT_RATE_PROFILE": "2/minute",
    "CONNECT_RATE_CHANNEL": "2/minute",
    "CONNECT_RATE_CALL": "2/minute",
    "CONNECT_RATE_RECEIPT": "3/minute",
    "CONNECT_RATE_READ": "6/minute",
    "CONNECT_RATE_STAFF": "3/minute",
}


@pytest.fixture(scope="module", params=BACKENDS)
def limited(
    request: pytest.FixtureRequest, make_server: Callable[[Mapping[str, str]], Server]
) -> Server:
    overrides = dict(LOW)
    if request.param != "memory-sqlite":
        overrides |= backend_settings(request.param, request.getfixturevalue("backing_services"))
    return make_server(overrides)


def assert_limited(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["error"]["code"] == "rate_limited"
    assert body["retryAfterMs"] > 0
    assert int(r.headers["Retry-After"]) >= 1


async def avatar(user: User) -> httpx.Response:
    return await user.call("POST", "/api/auth/avatar", files={"file": ("a.png", PNG, "image/png")})


async def test_avatar_uploads_are_limited_per_account(limited: Server) -> None:
    ann = await new_user(limited, "Ann")
    for _ in range(2):
        r = await avatar(ann)
        assert r.status_code == 200, r.text
    assert_limited(await avatar(ann))
    bob = await new_user(limited, "Bob")
    assert (await avatar(bob)).status_code == 200  # Bob's budget is his own


async def test_profile_edits_are_limited_per_account(limited: Server) -> None:
    ann = await new_user(limited, "Ann")
    for name in ("Ann B", "Ann C"):
        r = await ann.call("PUT", "/api/auth/profile", json={"displayName": name})
        assert r.status_code == 200, r.text
    assert_limited(await ann.call("PUT", "/api/auth/profile", json={"displayName": "Ann D"}))


async def test_opening_conversations_is_limited_per_account(limited: Server) -> None:
    ann = await new_user(limited, "Ann")
    others = [await new_user(limited, f"Peer{i}") for i in range(3)]
    for other in others[:2]:
        r = await ann.call("POST", "/api/channels", json={"userId": other.id})
        assert r.status_code == 200, r.text
    assert_limited(await ann.call("POST", "/api/channels", json={"userId": others[2].id}))


async def test_answering_and_ending_calls_share_a_limit(limited: Server) -> None:
    ann = await new_user(limited, "Ann")
    r = await ann.call("POST", f"/api/calls/{UNKNOWN}/respond", json={"accept": False})
    assert r.status_code == 404, r.text
    r = await ann.call("POST", f"/api/calls/{UNKNOWN}/end", json={"reason": "hangup"})
    assert r.status_code == 404, r.text
    assert_limited(await ann.call("POST", f"/api/calls/{UNKNOWN}/end", json={}))


async def test_receipts_are_limited_per_account(limited: Server) -> None:
    ann, bob = await new_user(limited, "Ann"), await new_user(limited, "Bob")
    channel = (await ann.call("POST", "/api/channels", json={"userId": bob.id})).json()["id"]
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"/api/channels/{channel}/read", {"seq": 0}),
        ("POST", "/api/messages/delivered", {"ids": [UNKNOWN]}),
        ("POST", f"/api/channels/{channel}/read", {"seq": 0}),
    ]
    for method, path, body in calls:
        r = await ann.call(method, path, json=body)
        assert r.status_code in (200, 204), r.text
    assert_limited(await ann.call("POST", "/api/messages/delivered", json={"ids": [UNKNOWN]}))


async def test_reads_share_one_budget_per_account(limited: Server) -> None:
    ann = await new_user(limited, "Ann")
    reads = [
        "/api/auth/me",
        "/api/channels",
        "/api/calls",
        "/api/messages/undelivered",
        f"/api/calls/{UNKNOWN}",
        f"/api/users/{ann.id}/avatar",
    ]
    for path in reads:
        r = await ann.call("GET", path)
        assert r.status_code in (200, 404), (path, r.text)
    assert_limited(await ann.call("GET", f"/api/attachments/{UNKNOWN}"))
    assert_limited(await ann.call("GET", "/api/auth/me"))
    bob = await new_user(limited, "Bob")
    assert (await bob.call("GET", "/api/auth/me")).status_code == 200


async def test_staff_routes_are_limited_per_staff_account(limited: Server) -> None:
    admin, _, _ = await new_admin(limited)
    for path in ("/api/admin/stats", "/api/admin/reports", "/api/admin/bans"):
        r = await admin.call("GET", path)
        assert r.status_code == 200, r.text
    assert_limited(await admin.call("GET", "/api/admin/stats"))
