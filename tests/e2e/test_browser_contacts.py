"""Two registered users in two browsers: sign up, find each other, message, type,
react, and a video call with media both ways until A hangs up.

The time from B's Accept to remote video playing on both sides is recorded in
artifacts/e2e/contacts-timings.json (nothing is asserted about it).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import time
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.e2e.rtc import WAIT_MS, close_pc, wait_frames_rising, wait_video_playing
from tests.support.server import Server

pytestmark = pytest.mark.e2e
ACCEPT_TO_VIDEO_S: list[float] = []


async def sign_up(browser: Browser, server: Server, name: str) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(viewport={"width": 1100, "height": 800})
    page = await ctx.new_page()
    await page.goto(server.http + "/#/contacts")
    await page.get_by_test_id("show-signup").click()
    await page.get_by_test_id("signup-name").fill(name)
    await page.get_by_test_id("signup-email").fill(f"{name.lower()}@example.test")
    await page.get_by_test_id("signup-password").fill(secrets.token_urlsafe(16))
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("me-name")).to_have_text(name, timeout=WAIT_MS)
    return ctx, page


async def send(page: Page, text: str) -> None:
    await page.get_by_test_id("message-input").fill(text)
    await page.get_by_test_id("message-send").click()


def message(page: Page, text: str, mine: bool) -> Locator:
    return (
        page.get_by_test_id("message")
        .filter(has=page.get_by_test_id("message-text").filter(has_text=text))
        .and_(page.locator(f'[data-mine="{"true" if mine else "false"}"]'))
    )


@pytest.mark.parametrize("run", range(int(os.environ.get("CONNECT_E2E_RUNS", "1"))))
async def test_contacts_message_react_and_video_call(
    browser: Browser, web_server: Server, artifacts: Path, run: int
) -> None:
    suffix = secrets.token_hex(3)
    name_a, name_b = f"Alice{suffix}", f"Bob{suffix}"
    ctx_a, a = await sign_up(browser, web_server, name_a)
    ctx_b, b = await sign_up(browser, web_server, name_b)
    try:
        # A finds B and opens the conversation.
        await a.get_by_test_id("contact-search").fill(name_b)
        result = a.get_by_test_id("contact-result").filter(has_text=name_b)
        await expect(result).to_have_count(1, timeout=WAIT_MS)
        await result.click()
        await expect(a.get_by_test_id("conversation")).to_be_visible(timeout=WAIT_MS)
        await expect(a.get_by_test_id("conversation-peer")).to_have_text(name_b, timeout=WAIT_MS)

        # Messages both ways.
        await send(a, "hello Bob, it is Alice")
        row = b.get_by_test_id("channel-row").filter(has_text=name_a)
        await expect(row).to_have_count(1, timeout=WAIT_MS)
        await row.click()
        await expect(b.get_by_test_id("conversation")).to_be_visible(timeout=WAIT_MS)
        from_a = message(b, "hello Bob, it is Alice", mine=False)
        await expect(from_a).to_have_count(1, timeout=WAIT_MS)
        await send(b, "hi Alice, Bob here")
        await expect(message(a, "hi Alice, Bob here", mine=False)).to_have_count(1, timeout=WAIT_MS)
        await expect(message(a, "hello Bob, it is Alice", mine=True)).to_have_count(1)

        # B sees A typing (and it goes away when A sends).
        indicator = b.get_by_test_id("channel-typing-indicator")
        await expect(indicator).to_be_hidden()
        await a.get_by_test_id("message-input").press_sequentially("typing something")
        await expect(indicator).to_be_visible(timeout=WAIT_MS)
        await expect(indicator).to_contain_text(name_a)
        await a.get_by_test_id("message-send").click()
        await expect(message(b, "typing something", mine=False)).to_have_count(1, timeout=WAIT_MS)
        await expect(indicator).to_be_hidden(timeout=WAIT_MS)

        # B reacts to A's first message; A sees it on its own message.
        await from_a.get_by_test_id("react-button").click()
        await expect(from_a.get_by_test_id("react-button")).to_have_attribute(
            "aria-pressed", "true", timeout=WAIT_MS
        )
        mine_on_a = message(a, "hello Bob, it is Alice", mine=True)
        await expect(mine_on_a.get_by_test_id("message-reactions")).to_contain_text(
            "👍 1", timeout=WAIT_MS
        )

        # A video-calls B; B accepts; media both ways.
        await a.get_by_test_id("call-video-button").click()
        await expect(a.get_by_test_id("call-screen")).to_be_visible(timeout=WAIT_MS)
        incoming = b.get_by_test_id("incoming-call")
        await expect(incoming).to_be_visible(timeout=WAIT_MS)
        await expect(b.get_by_test_id("incoming-caller")).to_have_text(name_a)
        await b.get_by_test_id("call-accept").click()
        accepted = time.monotonic()
        await expect(b.get_by_test_id("call-screen")).to_be_visible(timeout=WAIT_MS)
        await wait_video_playing(a, "call-remote-video")
        await wait_video_playing(b, "call-remote-video")
        ACCEPT_TO_VIDEO_S.append(time.monotonic() - accepted)
        await wait_frames_rising(a)
        await wait_frames_rising(b)
        for page in (a, b):
            await expect(page.get_by_test_id("call-status")).to_have_text(
                "Connected", timeout=WAIT_MS
            )
            local_w = await page.evaluate(
                "() => document.querySelector('[data-testid=\"call-local-video\"]').videoWidth"
            )
            assert local_w > 0, "local camera preview has no picture"
        await a.screenshot(path=str(artifacts / "contacts-call.png"))

        # A hangs up: both see the end notice, the call screen goes away.
        await a.get_by_test_id("call-hangup").click()
        for page in (a, b):
            await expect(page.get_by_test_id("call-ended")).to_be_visible(timeout=WAIT_MS)
            await expect(page.get_by_test_id("call-ended")).to_have_text("Call ended")
            await expect(page.get_by_test_id("call-screen")).to_have_count(0, timeout=WAIT_MS)
            assert await page.evaluate("() => window.__connect.pc === null")
    finally:
        for page in (a, b):
            await close_pc(page)
        await ctx_a.close()
        await ctx_b.close()


def test_record_contacts_timings(artifacts: Path) -> None:
    """Accept → remote video playing on both sides, medians into artifacts/e2e/contacts-timings.json."""
    assert ACCEPT_TO_VIDEO_S, "the call test ran first and measured"
    summary = {
        "accept_to_video_s": {
            "median_s": round(statistics.median(ACCEPT_TO_VIDEO_S), 4),
            "runs": len(ACCEPT_TO_VIDEO_S),
            "samples": ACCEPT_TO_VIDEO_S,
        }
    }
    (artifacts / "contacts-timings.json").write_text(json.dumps(summary, indent=2))
