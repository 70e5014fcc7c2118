"""Two real browsers meet as strangers: video both ways, chat, Next; and a text-only pair.

Timings printed here (second Start → matched on both sides, matched → remote
video playing) feed docs/benchmarks.md; nothing is asserted about them.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, WebSocket, expect

from tests.support.server import Server

pytestmark = pytest.mark.e2e
WAIT_MS = 20_000
TIMINGS: dict[str, list[float]] = {"join_to_matched_s": [], "matched_to_video_s": []}


async def open_visitor(
    browser: Browser, server: Server, mode: str, interests: str
) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await ctx.new_page()
    await page.goto(server.http + "/")
    await page.get_by_test_id("consent-accept").click()
    await page.get_by_test_id(f"mode-{mode}").click()
    await page.get_by_test_id("interests-input").fill(interests)
    return ctx, page


async def wait_matched(page: Page) -> None:
    await page.wait_for_function(
        "() => Boolean(window.__connect && window.__connect.sessionId)", timeout=WAIT_MS
    )


async def wait_remote_video_playing(page: Page) -> None:
    await page.wait_for_function(
        """() => {
            const v = document.querySelector('[data-testid="remote-video"]');
            return v && v.videoWidth > 0 && v.currentTime > 0 && !v.paused;
        }""",
        timeout=WAIT_MS,
    )


async def frames_decoded(page: Page) -> int:
    value = await page.evaluate(
        """async () => {
            const pc = window.__connect && window.__connect.pc;
            if (!pc) return -1;
            let frames = 0;
            (await pc.getStats()).forEach(r => {
                if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
            });
            return frames;
        }"""
    )
    return int(value)


async def wait_frames_rising(page: Page) -> None:
    start = await frames_decoded(page)
    await page.wait_for_function(
        """async (start) => {
            const pc = window.__connect && window.__connect.pc;
            if (!pc) return false;
            let frames = 0;
            (await pc.getStats()).forEach(r => {
                if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
            });
            return frames >= start + 10;
        }""",
        arg=start,
        timeout=WAIT_MS,
        polling=100,
    )


async def close_peer_connection(page: Page) -> None:
    await page.evaluate("() => { const c = window.__connect; if (c && c.pc) c.pc.close(); }")


@pytest.mark.parametrize("run", range(int(os.environ.get("CONNECT_E2E_RUNS", "1"))))
async def test_two_strangers_see_each_other_chat_and_next(
    browser: Browser, web_server: Server, artifacts: Path, run: int
) -> None:
    tag = f"e2e{time.monotonic_ns() % 10**9}"
    ctx_a, a = await open_visitor(browser, web_server, "video", tag)
    ctx_b, b = await open_visitor(browser, web_server, "video", tag)
    try:
        await a.get_by_test_id("start-button").click()
        await expect(a.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)
        second_join = time.monotonic()
        await b.get_by_test_id("start-button").click()
        await wait_matched(a)
        await wait_matched(b)
        matched = time.monotonic()
        TIMINGS["join_to_matched_s"].append(matched - second_join)

        await wait_remote_video_playing(a)
        await wait_remote_video_playing(b)
        TIMINGS["matched_to_video_s"].append(time.monotonic() - matched)
        await wait_frames_rising(a)
        await wait_frames_rising(b)
        for page in (a, b):
            width = await page.evaluate(
                "() => document.querySelector('[data-testid=\"remote-video\"]').videoWidth"
            )
            assert width > 0
        await a.screenshot(path=str(artifacts / "live-call.png"))

        await a.get_by_test_id("chat-input").fill("hello from A")
        await a.get_by_test_id("chat-send").click()
        await expect(b.get_by_test_id("chat-log")).to_contain_text("hello from A", timeout=WAIT_MS)
        await b.get_by_test_id("chat-input").fill("hi A, B here")
        await b.get_by_test_id("chat-input").press("Enter")
        await expect(a.get_by_test_id("chat-log")).to_contain_text("hi A, B here", timeout=WAIT_MS)

        await close_peer_connection(a)
        await a.get_by_test_id("next-button").click()
        await expect(b.get_by_test_id("status")).to_contain_text("skipped", timeout=WAIT_MS)
        await expect(a.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)
    finally:
        for page in (a, b):
            await close_peer_connection(page)
        await ctx_a.close()
        await ctx_b.close()


async def test_text_only_pair_chats_without_camera(browser: Browser, web_server: Server) -> None:
    tag = f"txt{time.monotonic_ns() % 10**9}"
    ctx_a, a = await open_visitor(browser, web_server, "text", tag)
    ctx_b, b = await open_visitor(browser, web_server, "text", tag)
    try:
        await a.get_by_test_id("start-button").click()
        await b.get_by_test_id("start-button").click()
        await wait_matched(a)
        await wait_matched(b)
        await expect(a.get_by_test_id("local-video")).to_have_count(0)
        await b.get_by_test_id("chat-input").fill("text only here")
        await b.get_by_test_id("chat-send").click()
        await expect(a.get_by_test_id("chat-log")).to_contain_text(
            "text only here", timeout=WAIT_MS
        )
        await a.get_by_test_id("chat-input").type("typing now")
        await expect(b.get_by_test_id("typing-indicator")).to_be_visible(timeout=WAIT_MS)
        await a.get_by_test_id("end-button").click()
        await expect(b.get_by_test_id("status")).to_contain_text("left", timeout=WAIT_MS)
    finally:
        await ctx_a.close()
        await ctx_b.close()


async def test_next_and_report_offer_dont_match_me_again(
    browser: Browser, web_server: Server
) -> None:
    """The "Next, don't show again" control exists, works from the keyboard and sends
    ``next {"avoid": true, "sessionId"}``; the report form's box is ticked by default and the
    report carries ``"avoid": true``."""
    tag = f"avoid{time.monotonic_ns() % 10**9}"
    ctx_a, a = await open_visitor(browser, web_server, "text", tag)
    ctx_b, b = await open_visitor(browser, web_server, "text", tag)
    sent: list[dict[str, object]] = []

    def on_ws(ws: WebSocket) -> None:
        def frame(payload: str | bytes) -> None:
            if isinstance(payload, str):
                sent.append(json.loads(payload))

        ws.on("framesent", frame)

    a.on("websocket", on_ws)
    try:
        await a.get_by_test_id("start-button").click()
        await b.get_by_test_id("start-button").click()
        await wait_matched(a)
        await wait_matched(b)
        session_id = await a.evaluate("() => window.__connect.sessionId")
        avoid = a.get_by_test_id("next-avoid-button")
        await expect(avoid).to_be_visible()
        await expect(avoid).to_have_accessible_name("Next, don't show again")
        await expect(avoid).to_have_accessible_description(
            "Next and don't show me this person again"
        )
        await avoid.focus()
        await a.keyboard.press("Enter")
        await expect(b.get_by_test_id("status")).to_contain_text("skipped", timeout=WAIT_MS)
        nexts = [f for f in sent if f.get("event") == "next"]
        assert nexts, sent
        assert nexts[-1]["data"] == {"avoid": True, "sessionId": session_id}
        await expect(a.get_by_test_id("notice")).to_contain_text(
            "will not be matched with this person again", timeout=WAIT_MS
        )

        await b.get_by_test_id("report-button").click()
        box = b.get_by_test_id("report-avoid")
        await expect(box).to_be_checked()
        async with b.expect_request(lambda r: r.url.endswith("/api/reports")) as req:
            await b.get_by_test_id("report-submit").click()
        body = json.loads((await req.value).post_data or "{}")
        assert body["avoid"] is True
        assert body["sessionId"] == session_id
        await expect(b.get_by_test_id("report-done")).to_be_visible(timeout=WAIT_MS)
    finally:
        await ctx_a.close()
        await ctx_b.close()


async def test_app_minted_turn_credentials_are_accepted_by_coturn(
    browser: Browser, web_server: Server
) -> None:
    """A relay-only gathering with /api/ice-config credentials yields a relay candidate from coturn."""
    ctx = await browser.new_context()
    page = await ctx.new_page()
    await page.goto(web_server.http + "/")
    found = await page.evaluate(
        """async () => {
            const device = 'turncheck' + Math.random().toString(36).slice(2, 10);
            const tok = await (await fetch('/api/auth/token', {method: 'POST',
                headers: {'content-type': 'application/json'}, body: JSON.stringify({deviceId: device})})).json();
            const cfg = await (await fetch('/api/ice-config', {headers: {authorization: 'Bearer ' + tok.token}})).json();
            const pc = new RTCPeerConnection({iceServers: cfg.iceServers, iceTransportPolicy: 'relay'});
            pc.createDataChannel('probe');
            const types = [];
            const done = new Promise(resolve => {
                pc.onicecandidate = e => { if (e.candidate) types.push(e.candidate.type); else resolve(); };
                setTimeout(resolve, 10000);
            });
            await pc.setLocalDescription(await pc.createOffer());
            await done;
            pc.close();
            return types;
        }"""
    )
    await ctx.close()
    assert "relay" in found


def test_record_timings(artifacts: Path) -> None:
    """Write the medians collected above to artifacts/e2e/timings.json (for docs/benchmarks.md)."""
    assert TIMINGS["join_to_matched_s"], "the video test ran first and measured"
    summary = {
        name: {
            "median_s": round(statistics.median(values), 4),
            "runs": len(values),
            "samples": values,
        }
        for name, values in TIMINGS.items()
    }
    (artifacts / "timings.json").write_text(json.dumps(summary, indent=2))
