"""The visitor's first minute over real sockets, on both backends.

Countries come from the operator override: a real ``.mmdb`` file written by
the test maps 127.0.0.2 and 127.0.0.4 to Germany and 127.0.0.3 to France,
and each visitor's socket is bound to one of those loopback addresses. The
trusted-proxy header is believed from 127.0.0.1 only, so the same header
sent from 127.0.0.3 shows that a client cannot claim a country.

Interests never widen here (``CONNECT_MATCH_INTEREST_WIDEN_S``), so each
test's visitors, who share a fresh interest, only ever meet each other on
the module's shared server; ``match-timeout`` comes after 1.5 s and
``queue-status`` every 0.5 s, so nothing waits for the 20-second default.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets

from tests.conftest import BACKENDS, backend_settings
from tests.support.client import WAIT_S, Peer, guest_token
from tests.support.geoip import write_country_mmdb
from tests.support.server import Server

DE, FR, DE2, PROXY = "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.1"
HEADER = "X-Test-Country"


@pytest.fixture(scope="module", params=BACKENDS)
def srv(
    request: pytest.FixtureRequest,
    make_server: Callable[[Mapping[str, str]], Server],
    tmp_path_factory: pytest.TempPathFactory,
) -> Server:
    mmdb = write_country_mmdb(
        Path(tmp_path_factory.mktemp("geo")) / "countries.mmdb",
        {f"{DE}/32": "DE", f"{FR}/32": "FR", f"{DE2}/32": "DE"},
    )
    overrides = {
        "CONNECT_MATCH_INTEREST_WIDEN_S": "3600",
        "CONNECT_MATCH_TIMEOUT_S": "1.5",
        "CONNECT_QUEUE_STATUS_S": "0.5",
        "CONNECT_GEOIP_DATABASE": str(mmdb),
        "CONNECT_GEOIP_HEADER": HEADER,
        "CONNECT_TRUSTED_PROXIES": f"{PROXY}/32",
        "CONNECT_RATE_REACTION": "3/second;30/minute",
    }
    if request.param != "memory-sqlite":
        overrides |= backend_settings(request.param, request.getfixturevalue("backing_services"))
    return make_server(overrides)


async def visitor(srv: Server, ip: str, headers: dict[str, str] | None = None) -> Peer:
    """A guest whose socket comes from ``ip`` (a loopback address the .mmdb may map)."""
    token = await guest_token(srv.http)
    ws = await websockets.connect(
        srv.ws,
        max_size=None,
        open_timeout=WAIT_S,
        additional_headers=headers,
        local_addr=(ip, 0),
    )
    peer = Peer(ws)
    peer.token = token
    await peer.send_raw(orjson.dumps({"event": "hello", "data": {"token": token}}).decode())
    peer.welcome = await peer.event("welcome")
    return peer


def tag() -> list[str]:
    return [secrets.token_hex(6)]


async def join(peer: Peer, **criteria: Any) -> dict[str, Any]:
    ack = await peer.request("join-queue", {"mode": "video", **criteria})
    assert ack["ok"], ack
    return ack


async def close_all(*peers: Peer) -> None:
    for p in peers:
        await p.close()


async def test_waiting_visitor_sees_counts_then_a_timeout_and_stays_queued(srv: Server) -> None:
    interests = tag()
    a = await visitor(srv, DE)
    ack = await join(a, interests=interests, language="de")
    assert ack["country"] == "DE"
    await a.event("queued")
    status = await a.event("queue-status")
    assert status["online"] >= 1
    assert status["waiting"] >= 1
    assert status["narrow"] == ["language", "interests"]
    assert 0 <= status["elapsedMs"] < 1500
    later = await a.event("queue-status")
    assert later["elapsedMs"] > status["elapsedMs"]
    counts = await a.request("queue-status", {})
    assert counts["ok"]
    assert counts["online"] >= 1
    assert counts["waiting"] >= 1
    assert counts["country"] == "DE"
    notice = await a.event("match-timeout")
    assert notice["waitedMs"] >= 1500
    assert notice["suggest"] == ["language", "interests"]
    # Still queued: a newcomer with the same interest and language is matched with it.
    b = await visitor(srv, FR)
    await join(b, interests=interests, language="de")
    mb = await b.event("matched")
    assert mb["country"] == "DE"
    ma = await a.event("matched")
    assert ma["country"] == "FR"
    # Everything before the match has been read; no queue-status may follow it (pushes were
    # due every 0.5 s, so 1.2 s would show two).
    a.inbox.clear()
    with pytest.raises(TimeoutError):
        await a.event("queue-status", timeout=1.2)
    await b.barrier()
    assert b.events("match-timeout") == []
    await close_all(a, b)


async def test_start_screen_counts_without_joining(srv: Server) -> None:
    peer = await visitor(srv, FR)
    counts = await peer.request("queue-status", {"mode": "text"})
    assert counts["ok"]
    assert counts["online"] >= 1
    assert counts["country"] == "FR"
    bad = await peer.request("queue-status", {"mode": "audio"})
    assert bad["error"]["code"] == "invalid_payload"
    await peer.close()


async def test_my_country_is_honoured_and_the_one_click_widen_matches(srv: Server) -> None:
    interests = tag()
    fr = await visitor(srv, FR)
    await join(fr, interests=interests)
    await fr.event("queued")
    de = await visitor(srv, DE)
    await join(de, interests=interests, country="mine")
    await de.event("queued")
    notice = await de.event("match-timeout")
    assert notice["suggest"] == ["country", "interests"]
    assert fr.events("matched") == []
    assert de.events("matched") == []
    de2 = await visitor(srv, DE2)
    await join(de2, interests=interests, country="mine")
    m_de, m_de2 = await de.event("matched"), await de2.event("matched")
    assert m_de["country"] == m_de2["country"] == "DE"
    # The French visitor is still waiting; another German who chose France meets it.
    de3 = await visitor(srv, DE)
    await join(de3, interests=interests, countries=["fr"])
    assert (await fr.event("matched"))["country"] == "DE"
    assert (await de3.event("matched"))["country"] == "FR"
    await close_all(fr, de, de2, de3)


async def test_widen_keeps_the_place_and_leads_to_a_match(srv: Server) -> None:
    interests = tag()
    chooser = await visitor(srv, DE)
    await join(chooser, interests=interests, countries=["JP", "KR"], language="de")
    await chooser.event("queued")
    other = await visitor(srv, FR)
    await join(other, interests=interests, language="de")
    notice = await chooser.event("match-timeout")
    assert notice["suggest"] == ["language", "country", "interests"]
    again = await chooser.request("join-queue", {"mode": "video", "interests": interests})
    assert again["error"]["code"] == "already_queued", "update is what replaces the criteria"
    widened = await join(chooser, interests=interests, update=True)
    assert widened["country"] == "DE"
    m_chooser, m_other = await chooser.event("matched"), await other.event("matched")
    assert m_chooser["initiator"] is True, "it kept its place: it waited longer"
    assert m_other["country"] == "DE"
    await close_all(chooser, other)


async def test_a_hidden_country_is_neither_shown_nor_choosable(srv: Server) -> None:
    interests = tag()
    hider = await visitor(srv, FR)
    await join(hider, interests=interests, hideCountry=True)
    await hider.event("queued")
    chooser = await visitor(srv, DE)
    await join(chooser, interests=interests, countries=["FR"])
    await chooser.event("queued")
    await chooser.event("match-timeout")
    assert hider.events("matched") == []
    plain = await visitor(srv, DE2)
    await join(plain, interests=interests)
    m_plain = await plain.event("matched")
    m_hider = await hider.event("matched")
    assert "country" not in m_plain, "the partner is not told a hidden country"
    assert m_hider["country"] == "DE"
    await close_all(hider, chooser, plain)


async def test_the_country_header_only_from_a_trusted_proxy(srv: Server) -> None:
    proxied = await visitor(srv, PROXY, {HEADER: "at"})
    assert (await join(proxied, interests=tag()))["country"] == "AT"
    forged = await visitor(srv, FR, {HEADER: "JP"})
    assert (await join(forged, interests=tag()))["country"] == "FR"
    nonsense = await visitor(srv, PROXY, {HEADER: "ZZ"})
    assert (await join(nonsense, interests=tag()))["country"] is None, "loopback: no country"
    await close_all(proxied, forged, nonsense)


async def test_bad_country_input_is_refused(srv: Server) -> None:
    peer = await visitor(srv, DE)
    cases: list[dict[str, Any]] = [
        {"countries": ["QQ"]},
        {"countries": ["DEU"]},
        {"countries": ["DE", None]},
        {
            "countries": [
                "AD",
                "AE",
                "AF",
                "AG",
                "AI",
                "AL",
                "AM",
                "AO",
                "AQ",
                "AR",
                "AS",
                "AT",
                "AU",
                "AW",
                "AX",
                "AZ",
                "BA",
                "BB",
                "BD",
                "BE",
                "BF",
            ]
        },
        {"country": "DE"},
        {"hideCountry": "maybe"},
        {"update": [1]},
    ]
    for bad in cases:
        reply = await peer.request("join-queue", {"mode": "video", **bad})
        assert reply["ok"] is False, bad
        assert reply["error"]["code"] == "invalid_payload", bad
    assert (await peer.request("leave-queue", {}))["queued"] is False
    await peer.close()


async def test_media_state_and_reactions_reach_only_the_partner(srv: Server) -> None:
    interests, others = tag(), tag()
    a, b = await visitor(srv, DE), await visitor(srv, FR)
    c, d = await visitor(srv, DE2), await visitor(srv, FR)
    await join(a, interests=interests)
    await join(b, interests=interests)
    mb = await b.event("matched")
    ma = await a.event("matched")
    await join(c, interests=others)
    await join(d, interests=others)
    await c.event("matched")
    await d.event("matched")

    ok = await a.request("media-state", {"audio": False, "video": False, "camera": "none"})
    assert ok["ok"]
    state = await b.event("media-state")
    assert state == {"from": mb["peerId"], "audio": False, "video": False, "camera": "none"}
    assert (await b.request("media-state", {"audio": True, "video": True}))["ok"]
    assert await a.event("media-state") == {"from": ma["peerId"], "audio": True, "video": True}

    assert (await a.request("send-reaction", {"emoji": "👍"}))["ok"]
    assert await b.event("reaction") == {"from": mb["peerId"], "emoji": "👍"}

    for bad_event, bad in (
        ("send-reaction", {"emoji": "💩"}),
        ("send-reaction", {"emoji": "👍👍"}),
        ("send-reaction", {"emoji": "x" * 5000}),
        ("send-reaction", {}),
        ("media-state", {"audio": True, "video": True, "camera": "broken"}),
        ("media-state", {"audio": "loud", "video": True}),
    ):
        reply = await a.request(bad_event, bad)
        assert reply["error"]["code"] == "invalid_payload", (bad_event, bad)

    for p in (c, d):
        await p.barrier()
        assert p.events("media-state") == []
        assert p.events("reaction") == []
    await close_all(a, b, c, d)


async def test_reactions_are_rate_limited_and_need_a_session(srv: Server) -> None:
    interests = tag()
    loner = await visitor(srv, DE)
    alone = await loner.request("send-reaction", {"emoji": "🔥"})
    assert alone["error"]["code"] == "not_in_session"
    state = await loner.request("media-state", {"audio": True, "video": False})
    assert state["error"]["code"] == "not_in_session"
    await loner.close()

    a, b = await visitor(srv, DE), await visitor(srv, FR)
    await join(a, interests=interests)
    await join(b, interests=interests)
    await a.event("matched")
    await b.event("matched")
    replies = [await a.request("send-reaction", {"emoji": "🎉"}) for _ in range(5)]
    oks = [r for r in replies if r["ok"]]
    limited = [r for r in replies if not r["ok"]]
    assert len(oks) == 3, replies
    assert limited
    assert all(r["error"]["code"] == "rate_limited" for r in limited)
    assert all(r["retryAfterMs"] > 0 for r in limited)
    await b.barrier()
    await a.barrier()
    await b.barrier()
    assert len(b.events("reaction")) == 3, "a refused reaction never reaches the partner"
    await close_all(a, b)


@pytest.fixture(scope="module")
def two_nodes(
    request: pytest.FixtureRequest,
    make_server: Callable[[Mapping[str, str]], Server],
) -> tuple[Server, Server]:
    """Two nodes sharing one Redis and one PostgreSQL database, as in production."""
    overrides = {"CONNECT_MATCH_INTEREST_WIDEN_S": "3600", "CONNECT_QUEUE_STATUS_S": "0.5"}
    overrides |= backend_settings("redis-postgres", request.getfixturevalue("backing_services"))
    return make_server(overrides), make_server(overrides)


async def test_counts_are_cluster_wide_on_redis(two_nodes: tuple[Server, Server]) -> None:
    one, two = two_nodes
    a = await Peer.connect(one.ws, await guest_token(one.http))
    b = await Peer.connect(two.ws, await guest_token(two.http))
    idle = await Peer.connect(two.ws, await guest_token(two.http))
    await join(a, interests=tag(), language="de")
    await join(b, interests=tag(), language="fr")

    def everyone(frame: dict[str, Any]) -> bool:
        data = frame.get("data") or {}
        return frame.get("event") == "queue-status" and data.get("online") == 3

    # Counts are cached for a second per node: wait (bounded) for a push that sees all three.
    seen = await a.take(everyone, "queue-status counting both nodes", timeout=WAIT_S)
    assert seen["data"]["waiting"] == 2, "both waiting visitors, one on each node"
    counts = await idle.request("queue-status", {"mode": "video"})
    assert (counts["online"], counts["waiting"]) == (3, 2)
    await close_all(a, b, idle)


async def test_asgi_engine_reads_the_country_header_too(
    make_server: Callable[[Mapping[str, str]], Server],
) -> None:
    srv = make_server(
        {
            "CONNECT_WS_ENGINE": "asgi",
            "CONNECT_GEOIP_HEADER": HEADER,
            "CONNECT_TRUSTED_PROXIES": f"{PROXY}/32",
        }
    )
    proxied = await visitor(srv, PROXY, {HEADER: "CH"})
    assert (await join(proxied, interests=tag()))["country"] == "CH"
    forged = await visitor(srv, FR, {HEADER: "CH"})
    assert (await join(forged, interests=tag()))["country"] is None, "untrusted, no database"
    await close_all(proxied, forged)
