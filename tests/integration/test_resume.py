"""Resume within the grace period, and expiry after it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from tests.support.client import Peer, paired
from tests.support.server import Server

GRACE_S = 2.0


@pytest.fixture(scope="module")
def grace_server(make_server: Callable[[Mapping[str, str]], Server]) -> Server:
    return make_server({"CONNECT_RESUME_GRACE_S": str(GRACE_S)})


async def test_resume_within_grace_keeps_the_session(grace_server: Server) -> None:
    srv = grace_server
    a, b, ma, mb = await paired(srv.ws, srv.http)
    a.abort()
    assert await b.event("peer-reconnecting") == {}
    await b.request("send-message", {"text": "are you there?"})

    back = await Peer.connect(srv.ws, a.token, resume=a.welcome["resumeToken"])
    assert back.welcome["resumed"] is True
    assert back.welcome["connectionId"] == a.welcome["connectionId"]
    assert back.welcome["resumeToken"] != a.welcome["resumeToken"], "resume tokens rotate"
    missed = await back.event("message")
    assert missed["text"] == "are you there?"
    assert missed["from"] == ma["peerId"]
    assert await b.event("peer-reconnected") == {}

    await back.request("send-message", {"text": "yes"})
    assert (await b.event("message"))["from"] == mb["peerId"]
    stale = await Peer.connect(srv.ws, a.token, resume=a.welcome["resumeToken"])
    assert stale.welcome["resumed"] is False, "an old resume token is spent"
    for p in (back, b, stale):
        await p.close()


async def test_resume_replaces_a_half_dead_socket_with_4010(grace_server: Server) -> None:
    a, b, _, _ = await paired(grace_server.ws, grace_server.http)
    second = await Peer.connect(grace_server.ws, a.token, resume=a.welcome["resumeToken"])
    assert second.welcome["resumed"] is True
    assert (await a.wait_closed())[0] == 4010
    await second.request("send-message", {"text": "moved"})
    assert (await b.event("message"))["text"] == "moved"
    await b.barrier()
    assert b.events("peer-ended") == []
    await second.close()
    await b.close()


async def test_no_resume_within_grace_ends_the_session(grace_server: Server) -> None:
    a, b, _, _ = await paired(grace_server.ws, grace_server.http)
    a.abort()
    await b.event("peer-reconnecting")
    ended = await b.event("peer-ended", timeout=GRACE_S + 5)
    assert ended == {"reason": "disconnected"}
    late = await Peer.connect(grace_server.ws, a.token, resume=a.welcome["resumeToken"])
    assert late.welcome["resumed"] is False
    await late.close()
    await b.close()


async def test_queued_client_keeps_its_place_across_resume(grace_server: Server) -> None:
    a = await Peer.connect(grace_server.ws, await _token(grace_server))
    await a.request("join-queue", {"mode": "text", "interests": ["resume-queue"]})
    await a.event("queued")
    a.abort()
    back = await Peer.connect(grace_server.ws, a.token, resume=a.welcome["resumeToken"])
    assert back.welcome["resumed"] is True
    await back.event("queued")
    b = await Peer.connect(grace_server.ws, await _token(grace_server))
    await b.request("join-queue", {"mode": "text", "interests": ["resume-queue"]})
    assert (await back.event("matched"))["initiator"] is True
    await b.event("matched")
    await back.close()
    await b.close()


async def _token(srv: Server) -> str:
    from tests.support.client import guest_token

    return await guest_token(srv.http)
