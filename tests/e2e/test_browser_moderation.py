"""A moderator bans, in the dashboard, the visitor another visitor reported; the banned page shows it."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import STATIC_INDEX
from tests.e2e.test_browser_strangers import WAIT_MS, open_visitor, wait_matched
from tests.support.server import Server, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def queue_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: the queue holds only this test's report, whichever other
    browser tests share a worker (text chat only, so no TURN)."""
    assert STATIC_INDEX.exists(), "the web app is not built (make web)"
    srv = start_server(tmp_path_factory.mktemp("moderation-server"))
    yield srv
    srv.stop()


async def test_moderator_bans_reported_visitor_and_their_page_shows_the_ban(
    browser: Browser, queue_server: Server
) -> None:
    email = f"mod-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(16)
    created = queue_server.cli("create-admin", "--email", email, f"--password={password}")
    assert created.returncode == 0, created.stderr

    tag = f"mod{time.monotonic_ns() % 10**9}"
    ctx_a, reporter = await open_visitor(browser, queue_server, "text", tag)
    ctx_b, offender = await open_visitor(browser, queue_server, "text", tag)
    ctx_m = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        await reporter.get_by_test_id("start-button").click()
        await offender.get_by_test_id("start-button").click()
        await wait_matched(reporter)
        await wait_matched(offender)
        await offender.get_by_test_id("chat-input").fill("you are awful")
        await offender.get_by_test_id("chat-send").click()
        await expect(reporter.get_by_test_id("chat-log")).to_contain_text(
            "you are awful", timeout=WAIT_MS
        )

        await reporter.get_by_test_id("report-button").click()
        await reporter.get_by_test_id("report-reason").select_option("harassment")
        await reporter.get_by_test_id("report-comment").fill("insulted me")
        await reporter.get_by_test_id("report-submit").click()
        await expect(reporter.get_by_test_id("report-done")).to_be_visible(timeout=WAIT_MS)

        mod = await ctx_m.new_page()
        await mod.goto(queue_server.http + "/admin/")
        await mod.get_by_test_id("admin-email").fill(email)
        await mod.get_by_test_id("admin-password").fill(password)
        await mod.get_by_test_id("admin-login").click()
        await expect(mod.get_by_test_id("stat-reports-pending")).to_be_visible(timeout=WAIT_MS)
        await mod.get_by_test_id("nav-reports").click()
        row = mod.get_by_test_id("report-row").filter(has_text="harassment")
        await expect(mod.get_by_test_id("report-row")).to_have_count(1, timeout=WAIT_MS)
        await expect(row).to_be_visible(timeout=WAIT_MS)
        await row.click()
        detail = mod.get_by_test_id("report-detail")
        await expect(detail).to_contain_text("insulted me", timeout=WAIT_MS)
        await expect(mod.get_by_test_id("report-transcript")).to_contain_text("you are awful")
        await expect(mod.get_by_test_id("ban-scope-device")).to_be_checked()
        await mod.get_by_test_id("report-ban").click()
        await expect(mod.get_by_test_id("resolution-done")).to_be_visible(timeout=WAIT_MS)

        await expect(offender.get_by_test_id("ban-screen")).to_be_visible(timeout=WAIT_MS)
        await expect(reporter.get_by_test_id("status")).to_contain_text("banned", timeout=WAIT_MS)
    finally:
        await ctx_a.close()
        await ctx_b.close()
        await ctx_m.close()
