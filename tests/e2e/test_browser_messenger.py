"""Two registered users in two browser contexts use the contacts product as a
messenger (issue 16): a new conversation appears on the other side at once,
ticks go delivered → read live (read only once the recipient looks), a hidden
tab gets a real browser notification for a message and for a call; replies,
edits, reactions from the emoji picker, search and delete-for-everyone show on
the other side live; a muted conversation stays quiet; a decline
shows on both sides at once, and a screen share reaches the other side (with
the sharer's own preview). Screens are saved at phone and desktop sizes.

Send → delivered tick and → read tick times go to
artifacts/e2e/messenger-timings.json (medians; nothing is asserted about them).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, async_playwright, expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.rtc import WAIT_MS, close_pc, wait_frames_rising, wait_video_playing
from tests.support.server import Server

pytestmark = pytest.mark.e2e
TO_DELIVERED_S: list[float] = []
TO_READ_S: list[float] = []
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
async def share_browser() -> AsyncIterator[Browser]:
    """Chromium with two fake cameras and microphones that picks the (fake)
    entire screen for getDisplayMedia without a prompt."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *(
                    a if a != "--use-fake-device-for-media-stream" else f"{a}=device-count=2"
                    for a in CHROMIUM_ARGS
                ),
                "--auto-select-desktop-capture-source=Entire screen",
            ],
        )
        yield b
        await b.close()


async def sign_up(browser: Browser, server: Server, name: str) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(viewport=DESKTOP)
    await ctx.grant_permissions(["notifications"], origin=server.http)
    page = await ctx.new_page()
    await page.goto(server.http + "/#/contacts")
    await page.get_by_test_id("show-signup").click()
    await page.get_by_test_id("signup-name").fill(name)
    await page.get_by_test_id("signup-email").fill(f"{name.lower()}@example.test")
    await page.get_by_test_id("signup-password").fill(secrets.token_urlsafe(16))
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("me-name")).to_have_text(name, timeout=WAIT_MS)
    return ctx, page


def message(page: Page, text: str, mine: bool) -> Locator:
    return (
        page.get_by_test_id("message")
        .filter(has=page.get_by_test_id("message-text").filter(has_text=text))
        .and_(page.locator(f'[data-mine="{"true" if mine else "false"}"]'))
    )


async def send(page: Page, text: str) -> float:
    await page.get_by_test_id("message-input").fill(text)
    started = time.monotonic()
    await page.get_by_test_id("message-send").click()
    return started


async def set_hidden(page: Page, hidden: bool) -> None:
    """Put the tab in the background (or back in front).

    Playwright keeps every page it drives "visible" on purpose (minimising the
    window or bringing another tab to the front changes nothing, checked on
    Chromium 156; microsoft/playwright#3570), so this is the one emulation in
    the test: the document reports the state a background tab reports, and the
    browser's own visibilitychange event is dispatched. Everything after it
    (notifications, permission, read marks) is the real browser and server.
    """
    await page.evaluate(
        """(hidden) => {
            const state = hidden ? 'hidden' : 'visible';
            Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
            Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        hidden,
    )


async def notifications(page: Page) -> list[dict[str, str]]:
    return list(await page.evaluate("() => window.__connectNotifications || []"))


async def snap(page: Page, artifacts: Path, name: str) -> None:
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(artifacts / f"messenger-{name}-{label}.png"))
        # Nothing sideways at either size.
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} overflows sideways by {overflow}px at {label} size"
    await page.set_viewport_size(DESKTOP)


@pytest.mark.parametrize("run", range(int(os.environ.get("CONNECT_E2E_RUNS", "1"))))
async def test_messenger_ticks_notifications_decline_and_screen_share(
    share_browser: Browser, web_server: Server, artifacts: Path, run: int
) -> None:
    suffix = secrets.token_hex(3)
    name_a, name_b = f"Ada{suffix}", f"Ben{suffix}"
    ctx_a, a = await sign_up(share_browser, web_server, name_a)
    ctx_b, b = await sign_up(share_browser, web_server, name_b)
    try:
        # A opens a conversation with B: it shows up on B's side before any message.
        await a.get_by_test_id("contact-search").fill(name_b)
        result = a.get_by_test_id("contact-result").filter(has_text=name_b)
        await expect(result).to_have_count(1, timeout=WAIT_MS)
        await result.click()
        await expect(a.get_by_test_id("conversation-peer")).to_have_text(name_b, timeout=WAIT_MS)
        row_on_b = b.get_by_test_id("channel-row").filter(has_text=name_a)
        await expect(row_on_b).to_have_count(1, timeout=WAIT_MS)
        # Both are online: A's header says so.
        await expect(a.get_by_test_id("conversation-presence")).to_have_attribute(
            "data-online", "true", timeout=WAIT_MS
        )

        # Ticks: delivered while B only has the list open, read once B opens it.
        started = await send(a, "first message")
        ticks = message(a, "first message", mine=True).get_by_test_id("message-ticks")
        await expect(ticks).to_have_attribute("data-tick", "delivered", timeout=WAIT_MS)
        TO_DELIVERED_S.append(time.monotonic() - started)
        await expect(ticks).to_contain_text("Delivered")  # the words for screen readers
        await expect(row_on_b.get_by_test_id("unread-count")).to_have_text("1")
        opened = time.monotonic()
        await row_on_b.click()
        await expect(message(b, "first message", mine=False)).to_have_count(1, timeout=WAIT_MS)
        await expect(ticks).to_have_attribute("data-tick", "read", timeout=WAIT_MS)
        TO_READ_S.append(time.monotonic() - opened)
        await snap(a, artifacts, "conversation")

        # Messages: B replies with a quote, A edits, B reacts twice with the
        # picker (A sees who), A finds the message by search, then deletes it
        # for everyone: each shows on the other side live.
        await message(b, "first message", mine=False).get_by_test_id("reply-button").click()
        await expect(b.get_by_test_id("replying-banner")).to_be_visible()
        await send(b, "a reply")
        reply_on_a = message(a, "a reply", mine=False)
        await expect(reply_on_a.get_by_test_id("reply-quote")).to_contain_text(
            "first message", timeout=WAIT_MS
        )
        await message(a, "first message", mine=True).get_by_test_id("edit-button").click()
        await expect(a.get_by_test_id("editing-banner")).to_be_visible()
        await a.get_by_test_id("message-input").fill("first message, edited")
        await a.get_by_test_id("message-send").click()
        edited_on_b = message(b, "first message, edited", mine=False)
        await expect(edited_on_b.get_by_test_id("message-edited")).to_be_visible(timeout=WAIT_MS)
        for emoji in ("❤️", "🎉"):
            await edited_on_b.get_by_test_id("emoji-picker-toggle").click()
            await edited_on_b.get_by_test_id("emoji-option").filter(has_text=emoji).click()
        reactions_on_a = message(a, "first message, edited", mine=True).get_by_test_id("reaction")
        await expect(reactions_on_a).to_have_count(2, timeout=WAIT_MS)
        assert await reactions_on_a.first.get_attribute("title") == name_b
        await a.get_by_test_id("conversation-search-toggle").click()
        await a.get_by_test_id("conversation-search").fill("EDITED")
        await a.get_by_test_id("conversation-search-submit").click()
        await expect(a.get_by_test_id("conversation-search-result")).to_have_count(
            1, timeout=WAIT_MS
        )
        await a.get_by_test_id("conversation-search-toggle").click()
        await message(a, "first message, edited", mine=True).get_by_test_id("delete-button").click()
        await a.get_by_test_id("delete-confirm-button").click()
        await expect(b.get_by_test_id("message-deleted")).to_have_count(1, timeout=WAIT_MS)
        await expect(reply_on_a.get_by_test_id("reply-quote")).to_contain_text(
            "deleted", timeout=WAIT_MS
        )
        await snap(b, artifacts, "messages")

        # B's tab goes to the background: a message gives a notification, the
        # title counts it, and it is not marked read while nobody looks.
        await set_hidden(b, True)
        assert await b.evaluate("() => Notification.permission") == "granted"
        before = len(await notifications(b))
        await send(a, "are you there?")
        second = message(a, "are you there?", mine=True).get_by_test_id("message-ticks")
        await expect(second).to_have_attribute("data-tick", "delivered", timeout=WAIT_MS)
        await b.wait_for_function(
            "(n) => (window.__connectNotifications || []).length > n", arg=before, timeout=WAIT_MS
        )
        shown = (await notifications(b))[before:]
        assert any(name_a in n["title"] and "are you there?" in n["body"] for n in shown), shown
        assert (await b.title()).startswith("(1) ")
        await expect(b.locator("link#connect-unread-icon")).to_have_count(1)
        assert await second.get_attribute("data-tick") == "delivered"

        # A calls the hidden B: a call notification; B comes back and declines,
        # and both sides show it at once.
        before = len(await notifications(b))
        await a.get_by_test_id("call-audio-button").click()
        await expect(b.get_by_test_id("incoming-call")).to_be_visible(timeout=WAIT_MS)
        await b.wait_for_function(
            "(n) => (window.__connectNotifications || []).length > n", arg=before, timeout=WAIT_MS
        )
        assert any(name_a in n["title"] for n in (await notifications(b))[before:])
        await set_hidden(b, False)
        await expect(second).to_have_attribute("data-tick", "read", timeout=WAIT_MS)
        assert not (await b.title()).startswith("(")
        await expect(b.locator("link#connect-unread-icon")).to_have_count(0)
        await snap(b, artifacts, "incoming-call")
        await b.get_by_test_id("call-reject").click()
        await expect(a.get_by_test_id("call-ended")).to_have_attribute(
            "data-reason", "declined", timeout=WAIT_MS
        )
        await expect(b.get_by_test_id("incoming-call")).to_have_count(0)
        for page in (a, b):
            await expect(page.get_by_test_id("call-row").first).to_have_attribute(
                "data-status", "rejected", timeout=WAIT_MS
            )
        await a.get_by_test_id("call-ended-dismiss").click()

        # A muted conversation stays quiet in the background: no notification,
        # no count in the title (the message itself arrives).
        await b.get_by_test_id("mute-button").click()
        await expect(b.get_by_test_id("mute-button")).to_have_attribute("aria-pressed", "true")
        await set_hidden(b, True)
        before = len(await notifications(b))
        await send(a, "quiet please")
        await expect(message(b, "quiet please", mine=False)).to_have_count(1, timeout=WAIT_MS)
        assert len(await notifications(b)) == before
        assert not (await b.title()).startswith("(")
        await set_hidden(b, False)
        await b.get_by_test_id("mute-button").click()
        await expect(b.get_by_test_id("mute-button")).to_have_attribute("aria-pressed", "false")

        # An audio call upgraded to video by renegotiation, then screen sharing
        # on that video sender: B keeps decoding video and A's own preview
        # shows the shared screen.
        await a.get_by_test_id("call-audio-button").click()
        await expect(b.get_by_test_id("incoming-call")).to_be_visible(timeout=WAIT_MS)
        await b.get_by_test_id("call-accept").click()
        for page in (a, b):
            await expect(page.get_by_test_id("call-status")).to_have_text(
                "Connected", timeout=WAIT_MS
            )
            await expect(page.get_by_test_id("call-timer")).to_be_visible()
        assert (
            await b.evaluate(
                "() => document.querySelector('[data-testid=\"call-remote-video\"]').videoWidth"
            )
            == 0
        )
        await a.get_by_test_id("call-upgrade-video").click()
        await wait_video_playing(b, "call-remote-video")
        await wait_frames_rising(b)
        sender_label = (
            "() => window.__connect.pc.getSenders()"
            ".find(s => s.track && s.track.kind === 'video').track.label"
        )
        # Switch camera mid-call: the sender carries the other camera, B keeps decoding.
        first_camera = await a.evaluate(sender_label)
        picker = a.get_by_test_id("call-camera-select")
        await expect(picker).to_be_visible(timeout=WAIT_MS)
        other = await picker.evaluate(
            "(s) => [...s.options].map(o => o.value).find(v => v !== s.value)"
        )
        await picker.select_option(other)
        await a.wait_for_function(
            f"(before) => ({sender_label})() !== before", arg=first_camera, timeout=WAIT_MS
        )
        await wait_frames_rising(b)
        camera_label = await a.evaluate(sender_label)
        await a.get_by_test_id("call-share-screen").click()
        await expect(a.get_by_test_id("call-screen")).to_have_attribute(
            "data-sharing", "true", timeout=WAIT_MS
        )
        shared_label = await a.evaluate(sender_label)
        assert shared_label != camera_label, (camera_label, shared_label)
        preview_label = await a.evaluate(
            """() => document.querySelector('[data-testid="call-local-video"]').srcObject
                    .getVideoTracks()[0].label"""
        )
        assert preview_label == shared_label
        await wait_video_playing(a, "call-local-video")
        await expect(a.get_by_test_id("call-quality")).to_be_visible(timeout=WAIT_MS)
        await wait_frames_rising(b, by=30)
        await snap(a, artifacts, "screen-share")
        await a.get_by_test_id("call-hangup").click()
        for page in (a, b):
            await expect(page.get_by_test_id("call-ended")).to_be_visible(timeout=WAIT_MS)
    finally:
        for page in (a, b):
            await close_pc(page)
        await ctx_a.close()
        await ctx_b.close()
        out = artifacts / "messenger-timings.json"
        out.write_text(
            json.dumps(
                {
                    "send_to_delivered_s": TO_DELIVERED_S,
                    "send_to_delivered_median_s": statistics.median(TO_DELIVERED_S)
                    if TO_DELIVERED_S
                    else None,
                    "open_to_read_s": TO_READ_S,
                    "open_to_read_median_s": statistics.median(TO_READ_S) if TO_READ_S else None,
                },
                indent=2,
            )
        )


async def log_in(
    browser: Browser, server: Server, email: str, password: str
) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(viewport=DESKTOP)
    page = await ctx.new_page()
    await page.goto(server.http + "/#/contacts")
    await page.get_by_test_id("login-email").fill(email)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()
    return ctx, page


async def test_settings_devices_export_and_delete_account(
    share_browser: Browser, web_server: Server, artifacts: Path
) -> None:
    """My devices (sign out all others ends the other tab's login), export my
    data as a zip download, delete my account confirmed by password."""
    name = f"Cy{secrets.token_hex(3)}"
    email = f"{name.lower()}@example.test"
    password = secrets.token_urlsafe(16)
    ctx_1 = await share_browser.new_context(viewport=DESKTOP)
    one = await ctx_1.new_page()
    await one.goto(web_server.http + "/#/contacts")
    # A failed login's error is not carried over onto the sign-up form.
    await one.get_by_test_id("login-email").fill(email)
    await one.get_by_test_id("login-password").fill("not the password")
    await one.get_by_test_id("login-submit").click()
    await expect(one.get_by_test_id("auth-error")).to_be_visible(timeout=WAIT_MS)
    await one.get_by_test_id("show-signup").click()
    await expect(one.get_by_test_id("auth-error")).to_have_count(0)
    await one.get_by_test_id("signup-name").fill(name)
    await one.get_by_test_id("signup-email").fill(email)
    await one.get_by_test_id("signup-password").fill(password)
    await one.get_by_test_id("signup-submit").click()
    await expect(one.get_by_test_id("me-name")).to_have_text(name, timeout=WAIT_MS)
    ctx_2, two = await log_in(share_browser, web_server, email, password)
    try:
        await expect(two.get_by_test_id("me-name")).to_have_text(name, timeout=WAIT_MS)
        # The profile form is behind Edit.
        await expect(one.get_by_test_id("profile-name")).to_have_count(0)
        await one.get_by_test_id("profile-edit-toggle").click()
        await expect(one.get_by_test_id("profile-name")).to_be_visible()

        await one.get_by_test_id("settings-toggle").click()
        rows = one.get_by_test_id("device-row")
        await expect(rows).to_have_count(2, timeout=WAIT_MS)
        await expect(rows.and_(one.locator('[data-current="true"]'))).to_have_count(1)
        await snap(one, artifacts, "settings")
        await one.get_by_test_id("devices-signout-others").click()
        await expect(rows).to_have_count(1, timeout=WAIT_MS)
        await expect(two.get_by_test_id("login-email")).to_be_visible(timeout=WAIT_MS)

        async with one.expect_download() as dl_info:
            await one.get_by_test_id("export-data").click()
        download = await dl_info.value
        saved = artifacts / "messenger-export.zip"
        await download.save_as(saved)

        with zipfile.ZipFile(saved) as z:
            profile = json.loads(z.read("profile.json"))
        assert profile["email"] == email
        assert profile["displayName"] == name

        await one.get_by_test_id("delete-account-toggle").click()
        await one.get_by_test_id("delete-account-password").fill("wrong password 123")
        await one.get_by_test_id("delete-account-submit").click()
        await expect(one.get_by_test_id("delete-account-error")).to_be_visible(timeout=WAIT_MS)
        await expect(one.get_by_test_id("me-name")).to_have_text(name)
        await one.get_by_test_id("delete-account-password").fill(password)
        await one.get_by_test_id("delete-account-submit").click()
        await expect(one.get_by_test_id("login-email")).to_be_visible(timeout=WAIT_MS)
        await one.get_by_test_id("login-email").fill(email)
        await one.get_by_test_id("login-password").fill(password)
        await one.get_by_test_id("login-submit").click()
        await expect(one.get_by_test_id("auth-error")).to_be_visible(timeout=WAIT_MS)
    finally:
        await ctx_1.close()
        await ctx_2.close()
