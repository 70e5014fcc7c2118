"""Every screen of the moderation dashboard (/admin) with data in it, at every size,
light and dark (issue 15 points 6-8): no horizontal overflow, Sign out inside the
viewport, no critical or serious axe-core violation; a German and an Arabic
(right-to-left) browser get German and Arabic UI; the report queue is worked by
keyboard alone (open a report, decide, Next report).

Real Chromium against a real server of its own (so the queue holds only this
module's reports, in a known order). The data comes in through the real API:
two visitors paired over the gateway, a report with a JPEG snapshot, a live
session, a ban and the banned visitor's appeal, a moderator account (audit
entries follow from these). The screen checks are the strangers app's own
(tests/e2e/screens.py); screenshots land in artifacts/e2e/admin/.
"""

from __future__ import annotations

import base64
import io
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.e2e.screens import WAIT_MS, check_screen
from tests.support.client import Peer, guest_token, new_device, paired
from tests.support.http import loopback_client
from tests.support.server import Server, start_server
from tests.support.staff import StaffClient, new_admin

pytestmark = pytest.mark.e2e
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# Sign out must stay reachable on every size (it was pushed off a phone screen).
CONTROLS = ("admin-logout",)


@pytest.fixture(scope="module")
def shots(artifacts: Path) -> Path:
    d = artifacts / "admin"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("admin-screens-server"))
    yield srv
    srv.stop()


def snapshot_jpeg() -> str:
    """A small real JPEG (a drawn 'video frame') for the report's evidence."""
    img = Image.new("RGB", (320, 240), (30, 60, 110))
    draw = ImageDraw.Draw(img)
    draw.ellipse((110, 50, 210, 150), fill=(220, 180, 150))
    draw.rectangle((90, 150, 230, 240), fill=(200, 40, 40))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return base64.b64encode(out.getvalue()).decode()


async def file_report(
    server: Server, reporter: Peer, session_id: str, reason: str, comment: str, evidence: bool
) -> str:
    body: dict[str, str] = {"sessionId": session_id, "reason": reason, "comment": comment}
    if evidence:
        body["evidence"] = snapshot_jpeg()
    async with loopback_client(base_url=server.http) as http:
        r = await http.post(
            "/api/reports", json=body, headers={"Authorization": f"Bearer {reporter.token}"}
        )
    assert r.status_code == 201, r.text
    report_id: str = r.json()["id"]
    return report_id


@dataclass
class Data:
    admin: StaffClient
    email: str
    password: str
    mod_email: str
    mod_password: str
    report_id: str
    ban_id: str
    appeal_id: str
    session_id: str
    peers: list[Peer]


@pytest.fixture(scope="module")
async def data(admin_server: Server) -> AsyncIterator[Data]:
    srv = admin_server
    admin, email, password = await new_admin(srv)
    # The moderator who works the queue by keyboard (their sign-in is needed, so made here).
    mod_email = f"mod-{secrets.token_hex(4)}@example.test"
    mod_password = secrets.token_urlsafe(16)
    r = await admin.call(
        "POST",
        "/api/admin/staff",
        json={
            "email": mod_email,
            "password": mod_password,
            "displayName": "Mod",
            "role": "moderator",
        },
    )
    assert r.status_code == 201, r.text
    # A report with a snapshot and a transcript.
    a, b, ma, _ = await paired(srv.ws, srv.http, mode="video")
    await b.request("send-message", {"text": "you are awful"})
    await a.event("message")
    await a.request("send-message", {"text": "please stop"})
    await b.event("message")
    report_id = await file_report(srv, a, ma["sessionId"], "harassment", "insulted me", True)
    # A live session with messages, for the sessions screen.
    c, d, mc, _ = await paired(srv.ws, srv.http, mode="text")
    await c.request("send-message", {"text": "hello"})
    await d.event("message")
    # A ban on a device, and that device's appeal (its token request is refused with the appeal).
    device = new_device()
    await guest_token(srv.http, device)
    r = await admin.call(
        "POST",
        "/api/admin/bans",
        json={"scope": "device", "value": device, "reason": "spam links", "durationHours": 168},
    )
    assert r.status_code == 201, r.text
    ban_id = r.json()["id"]
    async with loopback_client(base_url=srv.http) as http:
        refused = await http.post("/api/auth/token", json={"deviceId": device})
        assert refused.status_code == 403, refused.text
        token = refused.json()["ban"]["appeal"]["token"]
        appeal = await http.post(
            "/api/appeals",
            json={"appealToken": token, "text": "That was my little brother, sorry."},
        )
        assert appeal.status_code == 201, appeal.text
    yield Data(
        admin,
        email,
        password,
        mod_email,
        mod_password,
        report_id,
        ban_id,
        appeal.json()["id"],
        mc["sessionId"],
        [a, b, c, d],
    )
    for p in (a, b, c, d):
        await p.close()


async def signed_in(
    browser: Browser, server: Server, data: Data, *, locale: str = "en-US", moderator: bool = False
) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(
        viewport=DESKTOP, locale=locale, reduced_motion="reduce", bypass_csp=True
    )
    page = await ctx.new_page()
    await page.goto(server.http + "/admin/")
    await page.get_by_test_id("admin-email").fill(data.mod_email if moderator else data.email)
    await page.get_by_test_id("admin-password").fill(
        data.mod_password if moderator else data.password
    )
    await page.get_by_test_id("admin-login").click()
    await expect(page.get_by_test_id("stat-reports-pending")).not_to_have_text("—", timeout=WAIT_MS)
    return ctx, page


async def test_every_admin_screen_fits_and_passes_axe(
    browser: Browser, admin_server: Server, data: Data, shots: Path
) -> None:
    problems: list[str] = []
    ctx = await browser.new_context(viewport=DESKTOP, reduced_motion="reduce", bypass_csp=True)
    try:
        page = await ctx.new_page()
        await page.goto(admin_server.http + "/admin/")
        await expect(page.get_by_test_id("admin-login")).to_be_visible()
        problems += await check_screen(page, "admin-login", shots)
        await ctx.close()

        ctx, page = await signed_in(browser, admin_server, data)
        await expect(page.get_by_test_id("stat-appeals-pending")).to_have_text("1")
        problems += await check_screen(page, "admin-overview", shots, controls=CONTROLS)

        await page.get_by_test_id("nav-reports").click()
        row = page.locator(f'[data-testid="report-row"][data-report-id="{data.report_id}"]')
        await row.get_by_test_id("report-open").click()
        detail = page.get_by_test_id("report-detail")
        await expect(detail).to_contain_text("insulted me", timeout=WAIT_MS)
        await expect(page.get_by_test_id("report-transcript")).to_contain_text("you are awful")
        evidence = page.get_by_test_id("report-evidence")
        await expect(evidence).to_be_visible(timeout=WAIT_MS)
        await page.wait_for_function(
            "() => { const i = document.querySelector('[data-testid=report-evidence]');"
            " return i && i.complete && i.naturalWidth === 320; }",
            timeout=WAIT_MS,
        )
        problems += await check_screen(page, "admin-report", shots, controls=CONTROLS)

        await page.get_by_test_id("nav-bans").click()
        await expect(
            page.locator(f'[data-testid="ban-row"][data-ban-id="{data.ban_id}"]')
        ).to_contain_text("spam links", timeout=WAIT_MS)
        problems += await check_screen(page, "admin-bans", shots, controls=CONTROLS)

        await page.get_by_test_id("nav-appeals").click()
        await expect(
            page.locator(f'[data-testid="appeal-row"][data-appeal-id="{data.appeal_id}"]')
        ).to_contain_text("little brother", timeout=WAIT_MS)
        problems += await check_screen(page, "admin-appeals", shots, controls=CONTROLS)

        await page.get_by_test_id("nav-audit").click()
        await expect(page.get_by_test_id("audit-row").first).to_be_visible(timeout=WAIT_MS)
        await page.get_by_test_id("audit-verify").click()
        await expect(page.get_by_test_id("audit-verify-result")).to_contain_text("Chain intact")
        problems += await check_screen(page, "admin-audit", shots, controls=CONTROLS)

        await page.get_by_test_id("nav-sessions").click()
        session = page.locator(f'[data-testid="session-row"][data-session-id="{data.session_id}"]')
        await expect(session).to_be_visible(timeout=WAIT_MS)
        await session.get_by_test_id("warn-button").first.click()
        await expect(page.get_by_test_id("warn-message")).to_be_focused()
        problems += await check_screen(page, "admin-sessions", shots, controls=CONTROLS)

        await page.get_by_test_id("nav-staff").click()
        await expect(page.get_by_test_id("staff-row")).to_have_count(2, timeout=WAIT_MS)
        problems += await check_screen(page, "admin-staff", shots, controls=CONTROLS)
    finally:
        await ctx.close()
    assert not problems, "\n".join(problems)


async def test_german_and_arabic_browsers_get_their_language(
    browser: Browser, admin_server: Server, data: Data, shots: Path
) -> None:
    phone: ViewportSize = {"width": 390, "height": 844}
    ctx_de = await browser.new_context(viewport=phone, locale="de-DE")
    ctx_ar: BrowserContext | None = None
    try:
        de = await ctx_de.new_page()
        await de.goto(admin_server.http + "/admin/")
        await expect(de.locator("h1")).to_have_text("Connect-Moderation")
        assert await de.evaluate("() => document.documentElement.lang") == "de"
        await expect(de.get_by_test_id("admin-login")).to_have_text("Anmelden")
        await expect(de).to_have_title("Connect · Moderation")
        # A refused sign-in reads as a German sentence (the server's code, not its English).
        await de.get_by_test_id("admin-email").fill(data.email)
        await de.get_by_test_id("admin-password").fill("wrong-password")
        await de.get_by_test_id("admin-login").click()
        await expect(de.get_by_test_id("admin-login-error")).to_have_text(
            "E-Mail oder Passwort ist falsch.", timeout=WAIT_MS
        )
        await de.get_by_test_id("admin-password").fill(data.password)
        await de.get_by_test_id("admin-login").click()
        await expect(de.get_by_test_id("nav-reports")).to_have_text("Meldungen", timeout=WAIT_MS)
        await expect(de.get_by_test_id("admin-logout")).to_have_text("Abmelden")
        await de.get_by_test_id("nav-bans").click()
        # German words, a German date (Intl) and a German duration label.
        row = de.locator(f'[data-testid="ban-row"][data-ban-id="{data.ban_id}"]')
        await expect(row).to_contain_text("Gerät", timeout=WAIT_MS)
        await expect(row).to_contain_text("aktiv")
        await expect(de.get_by_test_id("ban-duration").locator("option").first).to_have_text(
            "24 Stunden"
        )
        await de.screenshot(path=str(shots / "admin-bans-phone-german.png"))

        ctx_ar, ar = await signed_in(browser, admin_server, data, locale="ar-EG")
        assert await ar.evaluate(
            "() => [document.documentElement.lang, document.documentElement.dir]"
        ) == ["ar", "rtl"]
        await expect(ar.get_by_test_id("nav-reports")).to_have_text("البلاغات")
        await ar.get_by_test_id("nav-reports").click()
        await expect(ar.locator("h1")).to_have_text("البلاغات")
        # Laid out right to left: the brand sits at the right edge, the first column header too.
        geo = await ar.evaluate(
            """() => {
                const r = e => document.querySelector(e).getBoundingClientRect();
                return { vw: window.innerWidth, brand: r('.brand').right,
                         nav: r('.admin-nav').right, th: getComputedStyle(document.querySelector('th')).textAlign,
                         dir: getComputedStyle(document.querySelector('main')).direction };
            }"""
        )
        assert geo["dir"] == "rtl", geo
        assert geo["brand"] > geo["vw"] - 40, geo
        row = ar.locator(f'[data-testid="report-row"][data-report-id="{data.report_id}"]')
        await row.get_by_test_id("report-open").click()
        await expect(ar.get_by_test_id("report-reason")).to_have_text("تحرّش", timeout=WAIT_MS)
        await expect(ar.get_by_test_id("report-ban")).to_have_text("قبول وحظر")
        problems = await check_screen(ar, "admin-report-arabic", shots, controls=CONTROLS)
        assert not problems, "\n".join(problems)
        # The switcher changes language and direction on the spot.
        await ar.get_by_test_id("ui-language").select_option("fr")
        await expect(ar.get_by_test_id("nav-reports")).to_have_text("Signalements")
        assert await ar.evaluate("() => document.documentElement.dir") == "ltr"
    finally:
        await ctx_de.close()
        if ctx_ar:
            await ctx_ar.close()


async def tab_to(page: Page, test_id: str, report_id: str | None = None, limit: int = 120) -> None:
    """Press Tab until the focused element is `test_id` (inside report `report_id`)."""
    for _ in range(limit):
        here = await page.evaluate(
            """() => { const e = document.activeElement;
                       const r = e && e.closest('[data-report-id]');
                       return [e?.dataset?.testid || '', r ? r.dataset.reportId : ''] }"""
        )
        if here[0] == test_id and (report_id is None or here[1] == report_id):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{test_id} ({report_id}) not reachable with Tab")


async def test_the_report_queue_by_keyboard_alone(
    browser: Browser, admin_server: Server, data: Data
) -> None:
    srv = admin_server
    a, b, ma, _ = await paired(srv.ws, srv.http, mode="text")
    first = await file_report(srv, a, ma["sessionId"], "spam", "first by keyboard", False)
    second = await file_report(srv, b, ma["sessionId"], "other", "second by keyboard", False)
    ctx, page = await signed_in(browser, srv, data, moderator=True)
    try:
        # A moderator: no Staff page.
        await expect(page.get_by_test_id("admin-role")).to_have_text("moderator")
        await expect(page.get_by_test_id("nav-staff")).to_have_count(0)
        kb = page.keyboard
        await tab_to(page, "nav-reports")
        await kb.press("Enter")
        await expect(page.get_by_test_id("report-row").first).to_be_visible(timeout=WAIT_MS)
        # Select: the report's open button, then Enter; focus goes to the detail's heading.
        await tab_to(page, "report-open", first)
        await kb.press("Enter")
        detail = page.get_by_test_id("report-detail")
        await expect(detail).to_have_attribute("data-report-id", first, timeout=WAIT_MS)
        await expect(page.get_by_test_id("report-heading")).to_be_focused()
        # Act: Tab on to Reject.
        await tab_to(page, "report-reject")
        await kb.press("Enter")
        await expect(page.get_by_test_id("resolution-done")).to_be_visible(timeout=WAIT_MS)
        # Next: focus is on Next report; Enter opens the following report.
        await expect(page.get_by_test_id("report-next")).to_be_focused(timeout=WAIT_MS)
        await kb.press("Enter")
        await expect(detail).to_have_attribute("data-report-id", second, timeout=WAIT_MS)
        await expect(detail).to_contain_text("second by keyboard")
        await expect(page.get_by_test_id("report-heading")).to_be_focused()
        await tab_to(page, "report-accept")
        await kb.press("Enter")
        await expect(page.get_by_test_id("resolution-done")).to_contain_text("accepted")
        # Both decisions reached the server.
        for rid, status in ((first, "rejected"), (second, "accepted")):
            r = await data.admin.call("GET", f"/api/admin/reports/{rid}")
            assert r.json()["status"] == status, r.text
        # The first one left the pending queue.
        await expect(
            page.locator(f'[data-testid="report-row"][data-report-id="{first}"]')
        ).to_have_count(0, timeout=WAIT_MS)
    finally:
        await ctx.close()
        await a.close()
        await b.close()
