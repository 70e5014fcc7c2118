"""A live stranger video call survives a signaling blip and an ICE restart.

The blip: page A's gateway WebSocket is closed with 4000 (not a normal
close), so the client reconnects and resumes its place within the grace
period; B is told ``peer-reconnecting`` then ``peer-reconnected``. The media
path never depended on the socket, so video keeps flowing, and chat works
after the resume.

The ICE restart goes through the app's own restart path (PeerCall's
restart offer, what it does on "disconnected"/"failed") on the initiator.
"""

from __future__ import annotations

import secrets

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.rtc import WAIT_MS, close_pc, wait_frames_rising, wait_video_playing
from tests.e2e.test_browser_strangers import wait_matched
from tests.support.server import Server

pytestmark = pytest.mark.e2e

# Every distinct text of data-testid="status", in order (a blip can be shorter than a poll).
STATUS_LOG_JS = """
window.__statusLog = [];
new MutationObserver(() => {
    const el = document.querySelector('[data-testid="status"]');
    const text = el ? el.textContent : null;
    const log = window.__statusLog;
    if (text !== null && log[log.length - 1] !== text) log.push(text);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


async def open_logged_visitor(
    browser: Browser, server: Server, tag: str
) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(viewport={"width": 390, "height": 844})
    await ctx.add_init_script(STATUS_LOG_JS)
    page = await ctx.new_page()
    await page.goto(server.http + "/")
    await page.get_by_test_id("consent-accept").click()
    await page.get_by_test_id("mode-video").click()
    await page.get_by_test_id("interests-input").fill(tag)
    return ctx, page


async def status_log(page: Page) -> list[str]:
    log: list[str] = await page.evaluate("() => window.__statusLog.slice()")
    return log


async def ice_ufrag(page: Page) -> str:
    ufrag: str = await page.evaluate(
        "() => /a=ice-ufrag:(\\S+)/.exec(window.__connect.pc.localDescription.sdp)[1]"
    )
    return ufrag


async def test_signaling_blip_and_ice_restart_keep_the_call(
    browser: Browser, web_server: Server
) -> None:
    tag = f"blip{secrets.token_hex(4)}"
    ctx_a, a = await open_logged_visitor(browser, web_server, tag)
    ctx_b, b = await open_logged_visitor(browser, web_server, tag)
    try:
        await a.get_by_test_id("start-button").click()
        await expect(a.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)
        await b.get_by_test_id("start-button").click()
        await wait_matched(a)
        await wait_matched(b)
        await wait_video_playing(a, "remote-video")
        await wait_video_playing(b, "remote-video")
        for page in (a, b):
            await expect(page.get_by_test_id("status")).to_have_text(
                "Connected to a stranger · Video connected", timeout=WAIT_MS
            )
        session = await a.evaluate("() => window.__connect.sessionId")
        connection_before = await a.evaluate(
            "() => window.__connect.controller.gateway.connectionId"
        )
        pc_a = await a.evaluate_handle("() => window.__connect.pc")
        await a.evaluate("() => { window.__statusLog.length = 0; }")
        await b.evaluate("() => { window.__statusLog.length = 0; }")

        # --- the blip: A's signaling socket goes away abnormally.
        closed = await a.evaluate(
            """() => new Promise(resolve => {
                const gw = window.__connect.controller.gateway;
                const offWelcome = gw.on('welcome', w => { offWelcome(); window.__blipWelcome = w; });
                const off = gw.on('closed', info => { off(); resolve(info); });
                gw.ws.close(4000, 'e2e blip');
            })"""
        )
        assert closed["code"] == 4000, closed
        assert closed["willReconnect"] is True, closed
        welcome = await a.wait_for_function("() => window.__blipWelcome || false", timeout=WAIT_MS)
        welcome_data = await welcome.json_value()
        assert welcome_data["resumed"] is True, welcome_data
        assert welcome_data["connectionId"] == connection_before, welcome_data
        # B was told its stranger is reconnecting, then that they are back.
        await b.wait_for_function(
            "() => window.__statusLog.some(t => t.includes('Stranger is reconnecting'))",
            timeout=WAIT_MS,
        )
        await expect(b.get_by_test_id("status")).to_have_text(
            "Connected to a stranger · Video connected", timeout=WAIT_MS
        )
        await expect(a.get_by_test_id("status")).to_have_text(
            "Connected to a stranger · Video connected", timeout=WAIT_MS
        )
        log_a, log_b = await status_log(a), await status_log(b)
        assert any("Reconnecting" in t for t in log_a), log_a
        assert not any("left" in t or "disconnected" in t or "lost" in t for t in log_a + log_b), (
            log_a,
            log_b,
        )
        # Same session, same RTCPeerConnection, media still flowing both ways.
        assert await a.evaluate("() => window.__connect.sessionId") == session
        assert await a.evaluate("(pc) => pc === window.__connect.pc", pc_a)
        await wait_frames_rising(a)
        await wait_frames_rising(b)
        # Chat goes through after the resume, both ways.
        await a.get_by_test_id("chat-input").fill("still here after the blip")
        await a.get_by_test_id("chat-send").click()
        await expect(b.get_by_test_id("chat-log")).to_contain_text(
            "still here after the blip", timeout=WAIT_MS
        )
        await b.get_by_test_id("chat-input").fill("me too")
        await b.get_by_test_id("chat-send").click()
        await expect(a.get_by_test_id("chat-log")).to_contain_text("me too", timeout=WAIT_MS)

        # --- ICE restart by the initiator (A waited longer), through the app's restart offer.
        initiator, other = a, b
        assert await initiator.evaluate("() => window.__connect.controller.peer.opts.initiator")
        ufrags_before = (await ice_ufrag(initiator), await ice_ufrag(other))
        await initiator.evaluate(
            "() => { const p = window.__connect.controller.peer; p.enqueue(() => p.makeOffer(true)); }"
        )
        for page, before in zip((initiator, other), ufrags_before, strict=True):
            await page.wait_for_function(
                """(before) => {
                    const pc = window.__connect.pc;
                    const m = pc && pc.localDescription && /a=ice-ufrag:(\\S+)/.exec(pc.localDescription.sdp);
                    return Boolean(m && m[1] !== before && pc.signalingState === 'stable'
                                   && pc.connectionState === 'connected');
                }""",
                arg=before,
                timeout=WAIT_MS,
            )
        await wait_frames_rising(a)
        await wait_frames_rising(b)
        for page in (a, b):
            await expect(page.get_by_test_id("status")).to_have_text(
                "Connected to a stranger · Video connected", timeout=WAIT_MS
            )
    finally:
        for page in (a, b):
            await close_pc(page)
        await ctx_a.close()
        await ctx_b.close()
