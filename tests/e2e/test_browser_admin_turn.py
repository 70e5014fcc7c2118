"""The admin overview shows Connect's probe of the session's real coturn (STUN and TURN)."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_browser_strangers import WAIT_MS
from tests.support.server import Server

pytestmark = pytest.mark.e2e


async def test_admin_overview_shows_turn_and_stun_up(browser: Browser, web_server: Server) -> None:
    email = f"turn-admin-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(16)
    created = web_server.cli("create-admin", "--email", email, f"--password={password}")
    assert created.returncode == 0, created.stderr
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await ctx.new_page()
        await page.goto(web_server.http + "/admin/")
        await page.get_by_test_id("admin-email").fill(email)
        await page.get_by_test_id("admin-password").fill(password)
        await page.get_by_test_id("admin-login").click()
        # web_server configures one STUN and one TURN URL on the session's coturn; the
        # first probe runs at start-up, the overview polls every 5 s.
        figure = page.get_by_test_id("stat-turn-up")
        await expect(figure).to_have_text("2", timeout=WAIT_MS)
        card = page.locator(".stat").filter(has=figure)
        await expect(card).to_contain_text("all 2 answer the probe")
        await expect(card).not_to_have_class(re.compile(r"\balert\b"))
    finally:
        await ctx.close()
