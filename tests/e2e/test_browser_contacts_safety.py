"""Safety controls in a conversation, clicked in real browsers: Bob (on a phone-sized
screen) reports one of Alice's messages, a moderator sees it in the queue with the
excerpt and the reported account, Bob blocks Alice (by keyboard), Alice's next message is
refused with the reason and no Retry (it cannot succeed), the reason follows her language
switch, after Bob unblocks her from the blocked list in settings her next message arrives; a message
Bob sends from a tab that missed his own block offers Unblock, then Retry."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.rtc import WAIT_MS
from tests.e2e.screens import assert_fits
from tests.e2e.test_browser_contacts import message, send
from tests.support.http import loopback_client
from tests.support.server import Server

pytestmark = pytest.mark.e2e


async def sign_up(
    browser: Browser, server: Server, name: str, width: int
) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(viewport={"width": width, "height": 800})
    page = await ctx.new_page()
    await page.goto(server.http + "/#/contacts")
    await page.get_by_test_id("show-signup").click()
    await page.get_by_test_id("signup-name").fill(name)
    await page.get_by_test_id("signup-email").fill(f"{name.lower()}@example.test")
    await page.get_by_test_id("signup-password").fill(secrets.token_urlsafe(16))
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("me-name")).to_have_text(name, timeout=WAIT_MS)
    return ctx, page


async def test_report_a_message_then_block_and_unblock_in_a_conversation(
    browser: Browser, web_server: Server, artifacts: Path
) -> None:
    suffix = secrets.token_hex(3)
    name_a, name_b = f"Alice{suffix}", f"Bob{suffix}"
    email = f"admin-{suffix}@example.test"
    password = secrets.token_urlsafe(16)
    created = web_server.cli("create-admin", "--email", email, f"--password={password}")
    assert created.returncode == 0, created.stderr
    ctx_a, a = await sign_up(browser, web_server, name_a, 1100)
    ctx_b, b = await sign_up(browser, web_server, name_b, 390)
    ctx_m = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        await a.get_by_test_id("contact-search").fill(name_b)
        result = a.get_by_test_id("contact-result").filter(has_text=name_b)
        await expect(result).to_have_count(1, timeout=WAIT_MS)
        await result.click()
        await expect(a.get_by_test_id("conversation-peer")).to_have_text(name_b, timeout=WAIT_MS)
        await send(a, f"you are awful {suffix}")
        row = b.get_by_test_id("channel-row").filter(has_text=name_a)
        await expect(row).to_have_count(1, timeout=WAIT_MS)
        await row.click()
        offending = message(b, f"you are awful {suffix}", mine=False)
        await expect(offending).to_have_count(1, timeout=WAIT_MS)

        # Report the message from the conversation.
        await offending.get_by_test_id("report-message-button").click()
        form = b.get_by_test_id("report-form")
        await expect(form).to_be_visible(timeout=WAIT_MS)
        await b.get_by_test_id("report-reason").select_option("harassment")
        await b.get_by_test_id("report-comment").fill(f"insulted me {suffix}")
        await b.get_by_test_id("report-submit").click()
        await expect(b.get_by_test_id("report-done")).to_be_visible(timeout=WAIT_MS)
        await b.screenshot(path=str(artifacts / "contacts-safety-phone-report.png"))

        # The moderator sees the conversation report with the excerpt and the account.
        mod = await ctx_m.new_page()
        await mod.goto(web_server.http + "/admin/")
        await mod.get_by_test_id("admin-email").fill(email)
        await mod.get_by_test_id("admin-password").fill(password)
        await mod.get_by_test_id("admin-login").click()
        await expect(mod.get_by_test_id("stat-reports-pending")).to_be_visible(timeout=WAIT_MS)
        await mod.get_by_test_id("nav-reports").click()
        queued = mod.get_by_test_id("report-row").filter(has_text=name_a)
        await expect(queued).to_have_count(1, timeout=WAIT_MS)
        await queued.click()
        await expect(mod.get_by_test_id("report-detail")).to_contain_text(
            f"insulted me {suffix}", timeout=WAIT_MS
        )
        await expect(mod.get_by_test_id("report-excerpt")).to_have_text(f"you are awful {suffix}")
        await expect(mod.get_by_test_id("report-account")).to_contain_text(name_a)
        await expect(
            mod.locator('[data-testid="transcript-line"][data-reported="true"]')
        ).to_contain_text(f"you are awful {suffix}")
        await expect(mod.get_by_test_id("ban-scope-account")).to_be_checked()
        await expect(mod.get_by_test_id("ban-scope-device")).to_be_disabled()
        await mod.screenshot(path=str(artifacts / "contacts-safety-queue.png"))

        # Block, keyboard only: focus Block, Enter, then confirm with Enter.
        await b.get_by_test_id("block-button").focus()
        await b.keyboard.press("Enter")
        await expect(b.get_by_test_id("block-confirm")).to_be_visible(timeout=WAIT_MS)
        await expect(b.get_by_test_id("block-confirm-button")).to_be_focused()
        await b.keyboard.press("Enter")
        await expect(b.get_by_test_id("blocked-banner")).to_be_visible(timeout=WAIT_MS)
        await expect(b.get_by_test_id("unblock-button")).to_be_visible()
        await expect(b.get_by_test_id("message-input")).to_be_disabled()
        await expect(b.get_by_test_id("call-video-button")).to_be_disabled()
        await b.screenshot(path=str(artifacts / "contacts-safety-phone-blocked.png"))

        # Alice's next message is refused by the server and says why, with no Retry: a
        # block by the other person cannot be retried away.
        await send(a, f"still there {suffix}")
        refused = message(a, f"still there {suffix}", mine=True)
        failed = refused.get_by_test_id("message-failed")
        await expect(failed).to_have_attribute("data-action", "none", timeout=WAIT_MS)
        await expect(failed).to_contain_text("does not accept messages or calls from you")
        await expect(refused.get_by_test_id("message-retry")).to_have_count(0)
        await expect(refused.get_by_test_id("message-unblock")).to_have_count(0)
        for (w, h), size in (((360, 640), "phone"), ((1280, 800), "desktop")):
            for scheme in ("light", "dark"):
                await a.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
                await a.set_viewport_size({"width": w, "height": h})
                await failed.scroll_into_view_if_needed()
                await expect(failed).to_be_in_viewport(timeout=WAIT_MS)
                await assert_fits(a, f"refused {w}x{h} {scheme}", ["message-input"])
                await a.screenshot(
                    path=str(artifacts / f"contacts-safety-refused-{size}-{scheme}.png")
                )
        await a.emulate_media(color_scheme="light")
        await a.set_viewport_size({"width": 1100, "height": 800})
        # The same refusal follows her language switch (kept as the server's reason, translated
        # when shown), and a new one is said in German from the start.
        await a.get_by_test_id("ui-language").select_option("de")
        await expect(failed).to_contain_text("nimmt keine Nachrichten oder Anrufe von dir an")
        await send(a, f"noch da {suffix}")
        refused_de = message(a, f"noch da {suffix}", mine=True)
        await expect(refused_de.get_by_test_id("message-failed")).to_contain_text(
            "nimmt keine Nachrichten oder Anrufe von dir an", timeout=WAIT_MS
        )
        await expect(refused_de.get_by_test_id("message-retry")).to_have_count(0)
        await a.screenshot(path=str(artifacts / "contacts-safety-refused-de.png"))
        # Giving a refused message up, by keyboard: Remove takes it out of the conversation.
        discard = refused_de.get_by_test_id("message-discard")
        await expect(discard).to_have_text("Entfernen")
        await discard.focus()
        await a.keyboard.press("Enter")
        await expect(message(a, f"noch da {suffix}", mine=True)).to_have_count(0, timeout=WAIT_MS)
        await expect(failed).to_be_visible()
        await a.get_by_test_id("ui-language").select_option("en")
        await expect(failed).to_contain_text("does not accept messages or calls from you")

        # Unblock from the blocked list in settings (the conversation list on a phone).
        await b.goto(web_server.http + "/#/contacts")
        await b.get_by_test_id("blocked-list-toggle").click()
        listed = b.get_by_test_id("blocked-row").filter(has_text=name_a)
        await expect(listed).to_have_count(1, timeout=WAIT_MS)
        await listed.get_by_test_id("blocked-unblock").click()
        await expect(b.get_by_test_id("blocked-empty")).to_be_visible(timeout=WAIT_MS)

        # Her next message arrives, once; the refused ones were never stored.
        await send(a, f"back again {suffix}")
        await b.get_by_test_id("channel-row").filter(has_text=name_a).click()
        await expect(message(b, f"back again {suffix}", mine=False)).to_have_count(
            1, timeout=WAIT_MS
        )
        await expect(message(b, f"still there {suffix}", mine=False)).to_have_count(0)
        await expect(b.get_by_test_id("blocked-banner")).to_have_count(0)

        # Bob blocks her again, and writes from a second tab that still shows her unblocked
        # (another device): refused blocked_by_you, it offers Unblock, then Retry delivers it.
        peer_url = b.url
        b2 = await ctx_b.new_page()
        await b2.goto(peer_url)
        await expect(b2.get_by_test_id("conversation-peer")).to_have_text(name_a, timeout=WAIT_MS)
        await b.get_by_test_id("block-button").click()
        await b.get_by_test_id("block-confirm-button").click()
        await expect(b.get_by_test_id("blocked-banner")).to_be_visible(timeout=WAIT_MS)
        await send(b2, f"from my other tab {suffix}")
        mine = message(b2, f"from my other tab {suffix}", mine=True)
        own_block = mine.get_by_test_id("message-failed")
        await expect(own_block).to_have_attribute("data-action", "unblock", timeout=WAIT_MS)
        await expect(own_block).to_contain_text("You blocked this person")
        await expect(b2.get_by_test_id("blocked-banner")).to_be_visible()
        for (w, h), size in (((360, 640), "phone"), ((1280, 800), "desktop")):
            for scheme in ("light", "dark"):
                await b2.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
                await b2.set_viewport_size({"width": w, "height": h})
                await own_block.scroll_into_view_if_needed()
                await expect(mine.get_by_test_id("message-unblock")).to_be_in_viewport()
                await assert_fits(b2, f"own block {w}x{h} {scheme}", ["message-unblock"])
                await b2.screenshot(
                    path=str(artifacts / f"contacts-safety-own-block-{size}-{scheme}.png")
                )
        await b2.emulate_media(color_scheme="light")
        await mine.get_by_test_id("message-unblock").click()
        await expect(own_block).to_have_attribute("data-action", "retry", timeout=WAIT_MS)
        await mine.get_by_test_id("message-retry").click()
        await expect(mine.get_by_test_id("message-failed")).to_have_count(0, timeout=WAIT_MS)
        await expect(message(a, f"from my other tab {suffix}", mine=False)).to_have_count(
            1, timeout=WAIT_MS
        )
        async with loopback_client(base_url=web_server.http) as http:
            r = await http.post("/api/auth/login", json={"email": email, "password": password})
            token = r.json()["accessToken"]
            queue = await http.get(
                "/api/admin/reports?status=pending&limit=200",
                headers={"Authorization": f"Bearer {token}"},
            )
        mine = [x for x in queue.json()["reports"] if x.get("comment") == f"insulted me {suffix}"]
        assert [x["messageExcerpt"] for x in mine] == [f"you are awful {suffix}"]
    finally:
        await ctx_a.close()
        await ctx_b.close()
        await ctx_m.close()
