"""TURN for real with the session's coturn.

(a) Two strangers whose browsers may use relay candidates only
    (``window.__connectIceTransportPolicy = 'relay'``, read by web/src/lib/peer.ts):
    video plays, the selected pair is relay↔relay, and coturn's log shows the
    allocations succeeding and, after the calls close, the relayed bytes.
(b) TURN REST credentials that coturn must refuse (wrong secret, expired) yield
    no relay candidate and a 401 in coturn's log; the same code with the right
    secret and a future expiry does get a relay candidate (so the probe itself works).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from tests.e2e.conftest import Turn
from tests.e2e.rtc import (
    close_pc,
    selected_pair,
    wait_frames_rising,
    wait_video_playing,
)
from tests.e2e.test_browser_strangers import wait_matched
from tests.support.server import Server

pytestmark = pytest.mark.e2e
LOG_WAIT_S = 15.0


def relayed_bytes(lines: list[str]) -> int:
    """Bytes coturn sent to peers, summed over ``peer usage`` lines."""
    return sum(int(m) for line in lines for m in re.findall(r"\bsb=(\d+)", line))


async def wait_log(
    turn: Turn,
    start: int,
    pattern: str,
    until: Callable[[list[str]], bool] = bool,
    timeout: float = LOG_WAIT_S,
) -> list[str]:
    """Poll coturn's log (from byte ``start``) until the lines matching ``pattern`` satisfy ``until``."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in turn.log()[start:].splitlines() if rx.search(line)]
        if until(lines):
            return lines
        if time.monotonic() > deadline:
            tail = "\n".join(turn.log()[start:].splitlines()[-40:])
            raise AssertionError(
                f"coturn log lines matching {pattern!r} never satisfied the condition: {lines}; tail:\n{tail}"
            )
        await asyncio.sleep(0.1)  # polling a file: there is no event to wait on


async def open_relay_visitor(
    browser: Browser, server: Server, tag: str
) -> tuple[BrowserContext, Page]:
    """A strangers-app visitor (video mode) whose calls may only use relay candidates."""
    ctx = await browser.new_context(viewport={"width": 390, "height": 844})
    await ctx.add_init_script("window.__connectIceTransportPolicy = 'relay'")
    page = await ctx.new_page()
    await page.goto(server.http + "/")
    await page.get_by_test_id("consent-accept").click()
    await page.get_by_test_id("mode-video").click()
    await page.get_by_test_id("interests-input").fill(tag)
    return ctx, page


async def turn_username(page: Page) -> str:
    name = await page.evaluate(
        """() => {
            const pc = window.__connect.pc;
            const cfg = pc.getConfiguration();
            if (cfg.iceTransportPolicy !== 'relay') return null;
            const turn = cfg.iceServers.find(s => [].concat(s.urls).some(u => u.startsWith('turn:')));
            return turn ? turn.username : null;
        }"""
    )
    assert name, "the call's RTCPeerConnection is not relay-only or has no TURN server"
    return str(name)


async def test_strangers_call_through_coturn_relay_only(
    browser: Browser, web_server: Server, turn: Turn
) -> None:
    log_start = len(turn.log())
    tag = f"relay{secrets.token_hex(4)}"
    ctx_a, a = await open_relay_visitor(browser, web_server, tag)
    ctx_b, b = await open_relay_visitor(browser, web_server, tag)
    try:
        await a.get_by_test_id("start-button").click()
        await b.get_by_test_id("start-button").click()
        await wait_matched(a)
        await wait_matched(b)
        users = [await turn_username(a), await turn_username(b)]
        await wait_video_playing(a, "remote-video")
        await wait_video_playing(b, "remote-video")
        await wait_frames_rising(a)
        await wait_frames_rising(b)

        for page in (a, b):
            pair: dict[str, Any] = await selected_pair(page)
            assert pair.get("local", {}).get("type") == "relay", pair
            assert pair.get("remote", {}).get("type") == "relay", pair
            assert pair["bytesReceived"] > 0, pair

        # These browsers' allocations: Connect's own TURN probe allocates on this coturn too.
        allocated = "|".join(re.escape(user) for user in users)
        await wait_log(turn, log_start, rf"user <({allocated})>: .*ALLOCATE processed, success")
    finally:
        for page in (a, b):
            await close_pc(page)
        await ctx_a.close()
        await ctx_b.close()

    # Closing the peer connections deallocates: coturn reports what it relayed.
    for user in users:
        # Each browser may hold more than one allocation (one per candidate it gathered);
        # the one carrying the call must report the media it relayed.
        lines = await wait_log(
            turn,
            log_start,
            rf"peer usage: .*username=<{re.escape(user)}>",
            until=lambda lines: relayed_bytes(lines) > 10_000,
        )
        assert relayed_bytes(lines) > 10_000, lines


PROBE_JS = """async ([url, secret, username]) => {
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret),
        {name: 'HMAC', hash: 'SHA-1'}, false, ['sign']);
    const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(username));
    const credential = btoa(String.fromCharCode(...new Uint8Array(mac)));
    const pc = new RTCPeerConnection({
        iceServers: [{urls: [url], username, credential}], iceTransportPolicy: 'relay'});
    pc.createDataChannel('probe');
    const types = [];
    const errors = [];
    pc.onicecandidateerror = e => errors.push(e.errorCode);
    const done = new Promise(resolve => {
        pc.onicecandidate = e => { if (e.candidate) types.push(e.candidate.type); else resolve('complete'); };
        setTimeout(() => resolve('timeout'), 10000);
    });
    await pc.setLocalDescription(await pc.createOffer());
    const end = await done;
    pc.close();
    return {types, errors, end};
}"""


@pytest.mark.parametrize("case", ["valid", "wrong-secret", "expired"])
async def test_turn_rest_credentials_are_checked_by_coturn(
    browser: Browser, web_server: Server, turn: Turn, case: str
) -> None:
    log_start = len(turn.log())
    now = int(time.time())
    expiry = now - 600 if case == "expired" else now + 600
    secret = secrets.token_hex(24) if case == "wrong-secret" else turn.secret
    username = f"{expiry}:probe-{case}-{secrets.token_hex(4)}"
    ctx = await browser.new_context()
    try:
        page = await ctx.new_page()
        await page.goto(web_server.http + "/")
        result = await page.evaluate(
            PROBE_JS, [f"turn:127.0.0.1:{turn.port}?transport=udp", secret, username]
        )
    finally:
        await ctx.close()

    if case == "valid":
        assert "relay" in result["types"], result
        await wait_log(
            turn, log_start, rf"user <{re.escape(username)}>: .*ALLOCATE processed, success"
        )
        return
    assert "relay" not in result["types"], result
    assert result["end"] == "complete", f"gathering never finished: {result}"
    lines = await wait_log(turn, log_start, rf"{re.escape(username)}.*401")
    assert any("Unauthorized" in line for line in lines), lines
