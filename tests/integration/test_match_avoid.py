""" "Don't match me with this person again" over real sockets, on both backends.

The servers here run with ``CONNECT_MATCH_RECENT_PAIR_S=0``: a plain skip is
forgotten at once, which stands for "after the 10 minutes" without waiting
for them. So each avoid scenario has its control (the same steps without
``avoid``, which re-pairs the two at once), and a third and fourth visitor
show that the avoiding visitors still get matched with others. Interests do
not widen within a test (``CONNECT_MATCH_INTEREST_WIDEN_S``), so a test's
visitors, who share a fresh interest, only ever meet each other.

"Never paired" is shown without sleeping: ``a`` waits first, ``b`` joins (its
own join refuses ``a``), then ``c`` and ``d`` join; the queue hands ``c`` the
longest-waiting compatible visitor, so ``c`` meeting ``a`` and ``d`` meeting
``b`` proves that neither the join nor any sweep in between paired ``a``
with ``b``.
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


@pytest.fixture(scope="module", params=BACKENDS)
def srv(
    request: pytest.FixtureRequest, make_server: Callable[[Mapping[str, str]], Server]
) -> Server:
    overrides = {"CONNECT_MATCH_RECENT_PAIR_S": "0", "CONNECT_MATCH_INTEREST_WIDEN_S": "3600"}
    if request.param != "memory-sqlite":
        overrides |= backend_settings(request.param, request.getfixturevalue("backing_services"))
    return make_server(overrides)


@pytest.fixture(scope="module")
def two_nodes(
    request: pytest.FixtureRequest, make_server: Callable[[Mapping[str, str]], Server]
) -> tuple[Server, Server]:
    """Two nodes sharing one Redis and one PostgreSQL database, as in production."""
    overrides = {"CONNECT_MATCH_RECENT_PAIR_S": "0", "CONNECT_MATCH_INTEREST_WIDEN_S": "3600"}
    overrides |= backend_settings("redis-postgres", request.getfixturevalue("backing_services"))
    return make_server(overrides), make_server(overrides)


class Visitor:
    """A device (fixed id, so it can come back on a new socket) and its current socket."""

    def __init__(self, srv: Server, tag: str) -> None:
        self.srv = srv
        self.device = new_device()
        self.criteria = {"mode": "text", "interests": [tag]}
        self.peer: Peer | None = None

    @property
    def p(self) -> Peer:
        assert self.peer is not None
        return self.peer

    async def connect(self, srv: Server | None = None) -> Visitor:
        if self.peer is not None:
            await self.peer.close()
        self.srv = srv or self.srv
        self.peer = await Peer.connect(self.srv.ws, await guest_token(self.srv.http, self.device))
        return self

    async def join(self) -> None:
        ack = await self.p.request("join-queue", self.criteria)
        assert ack["ok"], ack

    async def close(self) -> None:
        if self.peer is not None:
            await self.peer.close()


async def visitors(srv: Server, n: int) -> list[Visitor]:
    tag = "t" + secrets.token_hex(6)
    return [await Visitor(srv, tag).connect() for _ in range(n)]


async def match(x: Visitor, y: Visitor) -> str:
    mx, my = await x.p.event("matched"), await y.p.event("matched")
    assert mx["sessionId"] == my["sessionId"]
    return str(mx["sessionId"])


async def expect_kept_apart(a: Visitor, b: Visitor, c: Visitor, d: Visitor) -> None:
    """``a`` and ``b`` both wait (a first); newcomers c and d are matched with a and b."""
    await a.p.event("queued")
    await b.p.event("queued")
    await c.join()
    await match(c, a)
    await d.join()
    await match(d, b)
    assert len(a.p.events("matched")) == 0


async def test_next_with_avoid_keeps_the_pair_apart_across_new_sockets(srv: Server) -> None:
    a, b, c, d = await visitors(srv, 4)
    await a.join()
    await b.join()
    first = await match(a, b)
    assert (await a.p.request("next", {"avoid": True}))["ok"]
    assert await b.p.event("peer-ended") == {"reason": "skipped"}
    await a.p.event("queued")
    assert (await a.p.request("leave-queue"))["queued"] is False
    # Both come back on new sockets with the same devices and look again.
    await a.connect()
    await b.connect()
    await a.join()
    await a.p.barrier()
    await b.join()
    await expect_kept_apart(a, b, c, d)
    assert first
    for v in (a, b, c, d):
        await v.close()


async def test_control_a_plain_next_rematches_the_pair_at_once(srv: Server) -> None:
    a, b = await visitors(srv, 2)
    await a.join()
    await b.join()
    await match(a, b)
    assert (await a.p.request("next"))["ok"]
    assert await b.p.event("peer-ended") == {"reason": "skipped"}
    await a.p.event("queued")
    await b.join()
    await match(a, b)
    for v in (a, b):
        await v.close()


async def test_avoid_after_peer_ended_names_the_ended_chat(srv: Server) -> None:
    a, b, c, d = await visitors(srv, 4)
    await a.join()
    await b.join()
    sid = await match(a, b)
    assert (await b.p.request("end-call"))["ok"]
    assert await a.p.event("peer-ended") == {"reason": "ended"}
    foreign = await c.p.request("join-queue", {"mode": "video", "interests": [new_device()]})
    assert foreign["ok"]
    refused = await c.p.request("next", {"avoid": True, "sessionId": sid})
    assert refused["ok"] is False
    assert refused["error"]["code"] == "not_in_session", "another visitor's chat cannot be named"
    assert (await c.p.request("leave-queue"))["ok"]
    assert (await a.p.request("next", {"avoid": True, "sessionId": sid}))["ok"]
    await b.join()
    await expect_kept_apart(a, b, c, d)
    for v in (a, b, c, d):
        await v.close()


async def report(srv: Server, v: Visitor, session_id: str, **extra: Any) -> httpx.Response:
    async with loopback_client(base_url=srv.http) as http:
        return await http.post(
            "/api/reports",
            json={"sessionId": session_id, "reason": "harassment", **extra},
            headers={"Authorization": f"Bearer {v.p.token}"},
        )


async def test_a_report_keeps_the_reporter_away_from_the_reported(srv: Server) -> None:
    a, b, c, d = await visitors(srv, 4)
    await a.join()
    await b.join()
    sid = await match(a, b)
    r = await report(srv, a, sid)
    assert r.status_code == 201, r.text
    assert (await a.p.request("end-call"))["ok"]
    assert await b.p.event("peer-ended") == {"reason": "ended"}
    await b.connect()  # the reported one comes back on a new socket
    await a.join()
    await a.p.barrier()
    await b.join()
    await expect_kept_apart(a, b, c, d)
    for v in (a, b, c, d):
        await v.close()


async def test_control_a_report_with_avoid_false_does_not_keep_them_apart(srv: Server) -> None:
    a, b = await visitors(srv, 2)
    await a.join()
    await b.join()
    sid = await match(a, b)
    r = await report(srv, a, sid, avoid=False)
    assert r.status_code == 201, r.text
    assert (await a.p.request("end-call"))["ok"]
    await b.p.event("peer-ended")
    await a.join()
    await a.p.event("queued")
    await b.join()
    await match(a, b)
    for v in (a, b):
        await v.close()


async def test_bad_avoid_input_is_refused_and_changes_nothing(srv: Server) -> None:
    a, b, outsider = await visitors(srv, 3)
    await a.join()
    await b.join()
    sid = await match(a, b)
    for data in (
        {"avoid": "maybe"},
        {"avoid": True, "sessionId": "not-a-session"},
        {"avoid": True, "sessionId": sid, "extra": 1},
        {"avoid": True, "sessionId": "f" * 10_000},
    ):
        ack = await a.p.request("next", data)
        assert ack["ok"] is False, data
        assert ack["error"]["code"] == "invalid_payload", ack
    assert not b.p.events("peer-ended"), "a refused next skips nobody"
    # An outsider's report of a chat it was not in is refused and avoids nobody.
    r = await report(srv, outsider, sid)
    assert r.status_code == 403
    assert (await a.p.request("end-call"))["ok"]
    await b.p.event("peer-ended")
    await outsider.join()
    await outsider.p.event("queued")
    await a.join()
    await match(outsider, a)
    for v in (a, b, outsider):
        await v.close()


async def test_the_list_holds_across_nodes(two_nodes: tuple[Server, Server]) -> None:
    one, two = two_nodes
    a, b, c, d = await visitors(one, 4)
    await b.connect(two)
    await a.join()
    await b.join()
    await match(a, b)
    assert (await a.p.request("next", {"avoid": True}))["ok"]  # on node one
    assert await b.p.event("peer-ended") == {"reason": "skipped"}
    assert (await a.p.request("leave-queue"))["ok"]
    await a.connect(two)  # each comes back on the other node
    await b.connect(one)
    await a.join()
    await a.p.barrier()
    await b.join()
    await expect_kept_apart(a, b, c, d)
    # A report filed through node two keeps the reporter away on node one.
    e, f, g, h = await visitors(two, 4)
    await e.join()
    await f.join()
    sid = await match(e, f)
    assert (await report(two, e, sid)).status_code == 201
    assert (await e.p.request("end-call"))["ok"]
    await f.p.event("peer-ended")
    await e.connect(one)
    await e.join()
    await e.p.barrier()
    await f.join()
    await expect_kept_apart(e, f, g, h)
    for v in (a, b, c, d, e, f, g, h):
        await v.close()
