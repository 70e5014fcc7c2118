"""A moderator bans a typed address range in /admin → Bans; the form says what it will match
first, refuses what cannot match anyone, and the next token request from that range is refused."""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_browser_strangers import WAIT_MS
from tests.support.http import loopback_client
from tests.support.server import Server

pytestmark = pytest.mark.e2e


async def _token_from(server: Server, ip: str) -> httpx.Response:
    async with loopback_client(base_url=server.http) as http:
        return await http.post(
            "/api/auth/token",
            json={"deviceId": f"dev_{secrets.token_hex(8)}"},
            headers={"X-Forwarded-For": ip},
        )


async def test_admin_ban_form_previews_and_bans_a_typed_range(
    browser: Browser, web_server: Server
) -> None:
    email = f"admin-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(16)
    created = web_server.cli("create-admin", "--email", email, f"--password={password}")
    assert created.returncode == 0, created.stderr
    net = f"100.{64 + secrets.randbelow(60)}.{secrets.randbelow(250)}"
    assert (await _token_from(web_server, f"{net}.20")).status_code == 200

    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await ctx.new_page()
        await page.goto(web_server.http + "/admin/")
        await page.get_by_test_id("admin-email").fill(email)
        await page.get_by_test_id("admin-password").fill(password)
        await page.get_by_test_id("admin-login").click()
        await page.get_by_test_id("nav-bans").click()
        await page.get_by_test_id("ban-scope").select_option("ip")
        value = page.get_by_test_id("ban-value")
        preview = page.get_by_test_id("ban-preview")
        submit = page.get_by_test_id("ban-create-submit")
        await page.get_by_test_id("ban-reason").fill("abuse from this network")

        await value.fill("someone@example.test")
        await expect(preview).to_have_attribute("data-state", "invalid", timeout=WAIT_MS)
        await expect(preview).to_contain_text("an IP ban needs an address")
        await expect(submit).to_be_disabled()

        await value.fill(f"{net}.0/24")
        await expect(preview).to_have_text(
            f"Will ban every address in {net}.0/24 (256 addresses).", timeout=WAIT_MS
        )
        await submit.click()
        await expect(page.get_by_test_id("ban-message")).to_have_text(
            f"Banned every address in {net}.0/24 (256 addresses).", timeout=WAIT_MS
        )
        await expect(preview).to_have_attribute("data-state", "empty")
        # In German the same check reads in German (the switcher in the top bar), count by Intl.
        await page.get_by_test_id("ui-language").select_option("de")
        await value.fill(f"{net}.9/22")
        await expect(preview).to_have_text(
            f"Sperrt jede Adresse in {net.rsplit('.', 1)[0]}.{int(net.rsplit('.', 1)[1]) // 4 * 4}.0/22"
            " (1.024 Adressen).",
            timeout=WAIT_MS,
        )
        # The server's refusal and its IPv6 description come as codes: German too.
        await value.fill("someone@example.test")
        await expect(preview).to_contain_text(
            "Nicht angenommen: eine IP-Sperre braucht eine Adresse", timeout=WAIT_MS
        )
        await value.fill("2001:db8:1:2::7")
        await expect(preview).to_have_text(
            "Sperrt das /64-Netz von 2001:db8:1:2::7.", timeout=WAIT_MS
        )
        await page.get_by_test_id("ui-language").select_option("en")
        await page.screenshot(path=str(web_server.data_dir / "admin-ban-range.png"))
    finally:
        await ctx.close()

    refused = await _token_from(web_server, f"{net}.77")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "banned"
    assert refused.json()["ban"]["reason"] == "abuse from this network"
    head, third = net.rsplit(".", 1)
    neighbour = f"{head}.{(int(third) + 1) % 250}.77"
    assert (await _token_from(web_server, neighbour)).status_code == 200
