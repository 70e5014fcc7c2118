"""Account lifecycle in a real browser, on a phone-sized screen and by keyboard where it
matters: forgot password → the mail in the dev outbox → its link → a new password → log
in; then change the password in the settings; and an admin disabling an account on the
Staff page signs that user out of their open tab.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import secrets
import time
from email.message import EmailMessage

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.rtc import WAIT_MS
from tests.support.http import loopback_client
from tests.support.server import Server
from tests.support.staff import new_admin

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 800}
LINK = re.compile(r"(https?://[^/\s]+)/(#/contacts/reset/[A-Za-z0-9_-]+)")


async def signup(server: Server, name: str) -> tuple[str, str]:
    address = f"{name.lower()}-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(12)
    async with loopback_client(base_url=server.http) as http:
        r = await http.post(
            "/api/auth/signup", json={"email": address, "password": password, "displayName": name}
        )
    assert r.status_code == 201, r.text
    return address, password


async def mail_to(server: Server, address: str, timeout_s: float = 10.0) -> EmailMessage:
    """The reset mail to ``address`` in the server's dev outbox (polled, bounded)."""
    outbox = server.data_dir / "outbox"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml")) if outbox.is_dir() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if message["To"] == address:
                return message
        await asyncio.sleep(0.05)  # polling the outbox, bounded by the deadline
    raise AssertionError(f"no mail to {address} in {outbox} within {timeout_s} s")


async def log_in(page: Page, address: str, password: str, name: str) -> None:
    await page.get_by_test_id("login-email").fill(address)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("me-name")).to_have_text(name, timeout=WAIT_MS)


async def test_forgot_password_by_mail_then_change_it_in_the_settings(
    browser: Browser, web_server: Server
) -> None:
    name = f"Rita{secrets.token_hex(2)}"
    address, old_password = await signup(web_server, name)
    ctx = await browser.new_context(viewport=PHONE)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        await page.goto(web_server.http + "/#/contacts")
        await page.get_by_test_id("show-forgot").click()
        await page.get_by_test_id("forgot-email").fill(address)
        await page.get_by_test_id("forgot-email").press("Enter")
        await expect(page.get_by_test_id("forgot-sent")).to_contain_text(address, timeout=WAIT_MS)

        body = (await mail_to(web_server, address)).get_body(("plain",))
        assert body is not None
        match = LINK.search(body.get_content())
        assert match is not None, body.get_content()
        # The link names CONNECT_PUBLIC_URL (here the dev default); open its path on this server.
        await page.goto(f"{web_server.http}/{match.group(2)}")
        await expect(page.get_by_test_id("reset-submit")).to_be_visible(timeout=WAIT_MS)

        new_password = "brand new password 1"
        # Keyboard only: type, Tab to the repeat field, Enter submits.
        await page.get_by_test_id("reset-new").focus()
        await page.keyboard.type(new_password)
        await page.keyboard.press("Tab")
        await page.keyboard.type(new_password + "x")
        await page.keyboard.press("Enter")
        await expect(page.get_by_test_id("reset-error")).to_have_text(
            "The two new passwords differ.", timeout=WAIT_MS
        )
        await page.get_by_test_id("reset-repeat").fill(new_password)
        await page.get_by_test_id("reset-repeat").press("Enter")
        await expect(page.get_by_test_id("reset-done")).to_be_visible(timeout=WAIT_MS)

        await page.get_by_test_id("reset-login").click()
        await log_in(page, address, new_password, name)

        # Change it again from the settings; the old one stops working, the new one works.
        await page.get_by_test_id("change-password-toggle").click()
        await page.get_by_test_id("change-current").fill(old_password)
        await page.get_by_test_id("change-new").fill("third password 333")
        await page.get_by_test_id("change-repeat").fill("third password 333")
        await page.get_by_test_id("change-submit").click()
        await expect(page.get_by_test_id("change-error")).to_have_text(
            "The current password is wrong.", timeout=WAIT_MS
        )
        await page.get_by_test_id("change-current").fill(new_password)
        await page.get_by_test_id("change-submit").click()
        await expect(page.get_by_test_id("change-done")).to_be_visible(timeout=WAIT_MS)
        await expect(page.get_by_test_id("me-name")).to_have_text(name)  # still logged in here

        await page.get_by_test_id("logout-button").click()
        await log_in(page, address, "third password 333", name)

        # The link is spent: opening it again and submitting is refused plainly.
        await page.goto(f"{web_server.http}/{match.group(2)}")
        await page.get_by_test_id("reset-new").fill("fourth password 4")
        await page.get_by_test_id("reset-repeat").fill("fourth password 4")
        await page.get_by_test_id("reset-submit").click()
        await expect(page.get_by_test_id("reset-error")).to_contain_text(
            "invalid, already used or expired", timeout=WAIT_MS
        )
        assert errors == []
    finally:
        await ctx.close()


async def test_admin_disables_an_account_on_the_staff_page_and_its_tab_signs_out(
    browser: Browser, web_server: Server
) -> None:
    name = f"Sam{secrets.token_hex(2)}"
    address, password = await signup(web_server, name)
    _client, admin_email, admin_password = await new_admin(web_server)

    user_ctx = await browser.new_context(viewport=PHONE)
    admin_ctx = await browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        user = await user_ctx.new_page()
        await user.goto(web_server.http + "/#/contacts")
        await log_in(user, address, password, name)

        admin = await admin_ctx.new_page()
        await admin.goto(web_server.http + "/admin/")
        await admin.get_by_test_id("admin-email").fill(admin_email)
        await admin.get_by_test_id("admin-password").fill(admin_password)
        await admin.get_by_test_id("admin-login").click()
        await admin.get_by_test_id("nav-staff").click()
        await admin.get_by_test_id("staff-find-email").fill(address)
        await admin.get_by_test_id("staff-find").click()
        row = admin.get_by_test_id("staff-found").get_by_test_id("staff-row")
        await expect(row).to_have_count(1, timeout=WAIT_MS)
        await row.get_by_test_id("staff-disable").click()
        await row.get_by_test_id("staff-disable-confirm").click()
        await expect(row).to_have_attribute("data-disabled", "true", timeout=WAIT_MS)
        await expect(admin.get_by_test_id("staff-notice")).to_contain_text(address)

        # The user's open tab loses its socket (4001), its refresh is refused: signed out.
        await expect(user.get_by_test_id("login-submit")).to_be_visible(timeout=WAIT_MS)
        await user.get_by_test_id("login-email").fill(address)
        await user.get_by_test_id("login-password").fill(password)
        await user.get_by_test_id("login-submit").click()
        await expect(user.get_by_test_id("auth-error")).to_be_visible(timeout=WAIT_MS)

        await row.get_by_test_id("staff-enable").click()
        await expect(row).to_have_attribute("data-disabled", "false", timeout=WAIT_MS)
        await user.get_by_test_id("login-submit").click()
        await expect(user.get_by_test_id("me-name")).to_have_text(name, timeout=WAIT_MS)
    finally:
        await user_ctx.close()
        await admin_ctx.close()
