"""The web apps under their Content-Security-Policy: a stranger video match with chat, a
contacts conversation with an image attachment (a blob: image), and the moderation
dashboard, with every CSP violation the browser reports collected and asserted absent.

Violations are caught two ways: the ``securitypolicyviolation`` event (listened to by a
script Playwright injects before any of the page's own) and Chromium's console lines
("Refused to ... because it violates the following Content Security Policy directive").
A canary page commits one violation on purpose first, so the watch is shown to see them.
"""

from __future__ import annotations

import secrets
import struct
import time
import zlib

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.rtc import WAIT_MS
from tests.e2e.test_browser_strangers import wait_matched, wait_remote_video_playing
from tests.support.server import Server

pytestmark = pytest.mark.e2e

PROBE = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
}, true);
"""


def tiny_png() -> bytes:
    """A real 2x2 PNG (a browser decodes it: naturalWidth 2)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class CspWatch:
    """Every CSP complaint of every page opened through it."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.pages: list[Page] = []
        self.contexts: list[BrowserContext] = []

    async def context(self, browser: Browser, width: int = 1100) -> BrowserContext:
        ctx = await browser.new_context(viewport={"width": width, "height": 850})
        await ctx.add_init_script(PROBE)
        ctx.on("page", self._watch)
        self.contexts.append(ctx)
        return ctx

    def _watch(self, page: Page) -> None:
        self.pages.append(page)
        page.on(
            "console",
            lambda msg: (
                self.console.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )

    async def open(self, ctx: BrowserContext, url: str) -> Page:
        page = await ctx.new_page()
        response = await page.goto(url)
        assert response is not None
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp, f"{url} is served without the CSP: {csp!r}"
        return page

    async def violations(self) -> list[str]:
        found = list(self.console)
        for page in self.pages:
            if not page.is_closed():
                found += await page.evaluate("() => window.__cspViolations || []")
        return found

    async def close(self) -> None:
        for ctx in self.contexts:
            await ctx.close()


async def test_the_watch_sees_a_violation(browser: Browser, web_server: Server) -> None:
    watch = CspWatch()
    try:
        page = await watch.open(await watch.context(browser), web_server.http + "/")
        await page.evaluate(
            """() => {
                const s = document.createElement('script');
                s.textContent = 'window.__inlineRan = true';
                document.body.appendChild(s);
            }"""
        )
        await page.wait_for_function("() => window.__cspViolations.length > 0", timeout=WAIT_MS)
        assert await page.evaluate("() => window.__inlineRan === undefined")
        assert any("script-src" in v for v in await watch.violations())
    finally:
        await watch.close()


async def start_visitor(watch: CspWatch, browser: Browser, server: Server, tag: str) -> Page:
    page = await watch.open(await watch.context(browser, 390), server.http + "/")
    await page.get_by_test_id("consent-accept").click()
    await page.get_by_test_id("mode-video").click()
    await page.get_by_test_id("interests-input").fill(tag)
    return page


async def sign_up(watch: CspWatch, browser: Browser, server: Server, name: str) -> Page:
    page = await watch.open(await watch.context(browser), server.http + "/#/contacts")
    await page.get_by_test_id("show-signup").click()
    await page.get_by_test_id("signup-name").fill(name)
    await page.get_by_test_id("signup-email").fill(f"{name.lower()}@example.test")
    await page.get_by_test_id("signup-password").fill(secrets.token_urlsafe(16))
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("me-name")).to_have_text(name, timeout=WAIT_MS)
    return page


async def test_apps_work_under_the_csp_without_a_violation(
    browser: Browser, web_server: Server
) -> None:
    watch = CspWatch()
    try:
        # Strangers: camera, WebRTC over the same-origin WebSocket, video both ways, chat.
        tag = f"csp{time.monotonic_ns() % 10**9}"
        a = await start_visitor(watch, browser, web_server, tag)
        b = await start_visitor(watch, browser, web_server, tag)
        await a.get_by_test_id("start-button").click()
        await b.get_by_test_id("start-button").click()
        await wait_matched(a)
        await wait_matched(b)
        await wait_remote_video_playing(a)
        await wait_remote_video_playing(b)
        await a.get_by_test_id("chat-input").fill("hello under CSP")
        await a.get_by_test_id("chat-send").click()
        await expect(b.get_by_test_id("chat-log")).to_contain_text(
            "hello under CSP", timeout=WAIT_MS
        )
        for page in (a, b):
            await page.evaluate(
                "() => { const c = window.__connect; if (c && c.pc) c.pc.close(); }"
            )

        # Contacts: an image attachment is fetched with the token and shown as a blob: URL.
        suffix = secrets.token_hex(3)
        ann = await sign_up(watch, browser, web_server, f"Ann{suffix}")
        bob = await sign_up(watch, browser, web_server, f"Bob{suffix}")
        await ann.get_by_test_id("contact-search").fill(f"Bob{suffix}")
        result = ann.get_by_test_id("contact-result").filter(has_text=f"Bob{suffix}")
        await expect(result).to_have_count(1, timeout=WAIT_MS)
        await result.click()
        await expect(ann.get_by_test_id("conversation")).to_be_visible(timeout=WAIT_MS)
        await ann.get_by_test_id("attach-input").set_input_files(
            {"name": "dot.png", "mimeType": "image/png", "buffer": tiny_png()}
        )
        row = bob.get_by_test_id("channel-row").filter(has_text=f"Ann{suffix}")
        await expect(row).to_have_count(1, timeout=WAIT_MS)
        await row.click()
        image = bob.locator('img[data-testid="message-attachment"]')
        await expect(image).to_have_count(1, timeout=WAIT_MS)
        await bob.wait_for_function(
            """() => {
                const img = document.querySelector('img[data-testid="message-attachment"]');
                return img && img.src.startsWith('blob:') && img.complete && img.naturalWidth === 2;
            }""",
            timeout=WAIT_MS,
        )

        # The moderation dashboard: sign in, the overview and the reports queue.
        email = f"csp-admin-{secrets.token_hex(4)}@example.test"
        password = secrets.token_urlsafe(16)
        created = web_server.cli("create-admin", "--email", email, f"--password={password}")
        assert created.returncode == 0, created.stderr
        mod = await watch.open(await watch.context(browser, 1280), web_server.http + "/admin/")
        await mod.get_by_test_id("admin-email").fill(email)
        await mod.get_by_test_id("admin-password").fill(password)
        await mod.get_by_test_id("admin-login").click()
        await expect(mod.get_by_test_id("stat-reports-pending")).to_be_visible(timeout=WAIT_MS)
        await mod.get_by_test_id("nav-reports").click()
        await expect(mod.get_by_test_id("nav-reports")).to_be_visible()

        assert await watch.violations() == []
    finally:
        await watch.close()
