"""The visitor's first minute (issue 15) in real Chromium against a real server.

Two fake cameras per browser (``device-count=2``) so a camera switch mid-call
really changes the device; every check waits on a condition with a deadline.
Screenshots of each main screen (phone and desktop, light and dark) land in
artifacts/e2e/first-minute/; axe-core runs over every strangers screen at the
four sizes in light and dark and fails on a critical or serious violation.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, WebSocket, async_playwright, expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.screens import check_screen
from tests.support.server import Server, start_server

pytestmark = pytest.mark.e2e
WAIT_MS = 20_000


@pytest.fixture(scope="module")
async def browser2() -> AsyncIterator[Browser]:
    """Chromium with two fake cameras and microphones (the shared fixture has one)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed")
    args = [
        a if a != "--use-fake-device-for-media-stream" else f"{a}=device-count=2"
        for a in CHROMIUM_ARGS
    ]
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield b
        await b.close()


@pytest.fixture(scope="module")
def shots(artifacts: Path) -> Path:
    d = artifacts / "first-minute"
    d.mkdir(parents=True, exist_ok=True)
    return d


class Frames:
    """Every gateway frame a page sends (attached before the socket opens)."""

    def __init__(self, page: Page) -> None:
        self.sent: list[dict[str, Any]] = []
        page.on("websocket", self._on_ws)

    def _on_ws(self, ws: WebSocket) -> None:
        def frame(payload: str | bytes) -> None:
            if isinstance(payload, str):
                self.sent.append(json.loads(payload))

        ws.on("framesent", frame)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [f for f in self.sent if f.get("event") == name]


async def visitor(
    browser: Browser,
    server: Server,
    *,
    mode: str = "video",
    interests: str = "",
    size: tuple[int, int] = (390, 844),
    locale: str = "en-US",
    scheme: str = "light",
    consent: bool = True,
) -> tuple[BrowserContext, Page, Frames]:
    ctx = await browser.new_context(
        viewport={"width": size[0], "height": size[1]},
        locale=locale,
        color_scheme=scheme,  # type: ignore[arg-type]
        reduced_motion="reduce",
        bypass_csp=True,  # axe-core is injected as a script
    )
    page = await ctx.new_page()
    frames = Frames(page)
    await page.goto(server.http + "/")
    if consent:
        await page.get_by_test_id("consent-accept").click()
        await page.get_by_test_id(f"mode-{mode}").click()
        if interests:
            await page.get_by_test_id("interests-input").fill(interests)
    return ctx, page, frames


async def wait_matched(page: Page) -> None:
    await page.wait_for_function(
        "() => Boolean(window.__connect && window.__connect.sessionId)", timeout=WAIT_MS
    )


async def frames_decoded(page: Page) -> int:
    return int(
        await page.evaluate(
            """async () => {
                const pc = window.__connect && window.__connect.pc;
                if (!pc) return -1;
                let n = 0;
                (await pc.getStats()).forEach(r => {
                    if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0;
                });
                return n;
            }"""
        )
    )


async def wait_frames_rising(page: Page, by: int = 15) -> None:
    start = await frames_decoded(page)
    await page.wait_for_function(
        """async ([start, by]) => {
            const pc = window.__connect && window.__connect.pc;
            if (!pc) return false;
            let n = 0;
            (await pc.getStats()).forEach(r => {
                if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0;
            });
            const v = document.querySelector('[data-testid="remote-video"]');
            return n >= start + by && v && !v.paused && v.videoWidth > 0;
        }""",
        arg=[start, by],
        timeout=WAIT_MS,
        polling=100,
    )


async def pair(
    browser: Browser, server: Server, mode: str = "video", **kw: Any
) -> tuple[list[BrowserContext], Page, Frames, Page, Frames]:
    tag = f"fm{time.monotonic_ns() % 10**10}"
    ctx_a, a, fa = await visitor(browser, server, mode=mode, interests=tag, **kw)
    ctx_b, b, fb = await visitor(browser, server, mode=mode, interests=tag, **kw)
    await a.get_by_test_id("start-button").click()
    await expect(a.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)
    await b.get_by_test_id("start-button").click()
    await wait_matched(a)
    await wait_matched(b)
    return [ctx_a, ctx_b], a, fa, b, fb


# ------------------------------------------------------------------ tests


async def test_camera_switch_mid_call_keeps_the_partner_video_playing(
    browser2: Browser, web_server: Server
) -> None:
    ctxs, a, fa, b, _ = await pair(browser2, web_server)
    try:
        await wait_frames_rising(a)
        await wait_frames_rising(b)
        picker = a.get_by_test_id("camera-select")
        # The in-call device pickers live in a <details>; open it (by keyboard) first.
        await a.locator(".devices-inline summary").click()
        options = await picker.locator("option").evaluate_all("os => os.map(o => o.value)")
        assert len(options) == 2, options
        before = await a.evaluate(
            """() => window.__connect.pc.getSenders().find(s => s.track && s.track.kind === 'video').track.getSettings().deviceId"""
        )
        offers_before = len(fa.events("send-offer"))
        other = next(o for o in options if o != before)
        await picker.select_option(other)
        await a.wait_for_function(
            """(want) => {
                const s = window.__connect.pc.getSenders().find(s => s.track && s.track.kind === 'video');
                return s && s.track.readyState === 'live' && s.track.getSettings().deviceId === want;
            }""",
            arg=other,
            timeout=WAIT_MS,
        )
        # Same connection, no renegotiation, and B keeps decoding A's (new) picture.
        await wait_frames_rising(b, by=30)
        assert len(fa.events("send-offer")) == offers_before
        assert await b.evaluate("() => window.__connect.pc.connectionState") == "connected"
        # Remembered for the next visit.
        saved = await a.evaluate("() => JSON.parse(localStorage.getItem('connect.devices'))")
        assert saved["cameraId"] == other
    finally:
        for c in ctxs:
            await c.close()


async def test_partner_sees_mute_camera_off_and_a_reaction(
    browser2: Browser, web_server: Server
) -> None:
    ctxs, a, _, b, fb = await pair(browser2, web_server)
    try:
        await expect(b.get_by_test_id("partner-muted")).to_have_count(0)
        await a.get_by_test_id("mute-button").click()
        await expect(b.get_by_test_id("partner-muted")).to_be_visible(timeout=WAIT_MS)
        await a.get_by_test_id("camera-button").click()
        await expect(b.get_by_test_id("partner-camera-off")).to_contain_text(
            "turned the camera off", timeout=WAIT_MS
        )
        await expect(b.get_by_test_id("stage-partner-off")).to_be_visible()
        await a.get_by_test_id("mute-button").click()
        await expect(b.get_by_test_id("partner-muted")).to_have_count(0, timeout=WAIT_MS)

        await a.locator('[data-testid="reaction-button"][data-emoji="🔥"]').click()
        got = b.locator('[data-testid="reaction-received"][data-emoji="🔥"]')
        await expect(got).to_have_count(1, timeout=WAIT_MS)
        await expect(a.locator('[data-testid="reaction-sent"]')).to_have_count(1)
        # The call timer runs and the quality indicator appears from getStats.
        await expect(b.get_by_test_id("call-timer")).to_be_visible()
        await expect(b.get_by_test_id("call-quality")).to_have_attribute(
            "data-quality", "good", timeout=WAIT_MS
        )
        assert not fb.events("send-reaction")
    finally:
        for c in ctxs:
            await c.close()


async def test_partner_without_camera_is_shown_as_no_camera(
    browser: Browser, web_server: Server
) -> None:
    """A visitor whose camera is refused carries on; the partner reads "no camera", not black."""
    tag = f"nocam{time.monotonic_ns() % 10**10}"
    ctx_a, a, _ = await visitor(browser, web_server, interests=tag, consent=False)
    await ctx_a.add_init_script(
        """navigator.mediaDevices.getUserMedia = async () => {
               throw new DOMException('blocked', 'NotAllowedError'); };"""
    )
    await a.reload()
    await a.get_by_test_id("consent-accept").click()
    await a.get_by_test_id("interests-input").fill(tag)
    ctx_b, b, _ = await visitor(browser, web_server, interests=tag)
    try:
        problem = a.get_by_test_id("media-problem")
        await expect(problem).to_contain_text("blocked")
        await expect(problem).to_contain_text("Always allow")  # Chromium's own instructions
        await expect(a.get_by_test_id("media-retry")).to_be_visible()
        await expect(a.get_by_test_id("media-text")).to_be_visible()
        await a.get_by_test_id("start-button").click()
        await b.get_by_test_id("start-button").click()
        await wait_matched(b)
        await expect(b.get_by_test_id("partner-camera-off")).to_contain_text(
            "no camera", timeout=WAIT_MS
        )
        await expect(b.get_by_test_id("stage-partner-off")).to_contain_text("no camera")
    finally:
        await ctx_a.close()
        await ctx_b.close()


async def test_auto_requeue_after_the_partner_leaves_and_a_clean_screen(
    browser: Browser, web_server: Server
) -> None:
    ctxs, a, _, b, fb = await pair(browser, web_server, mode="text")
    ctx_c = None
    try:
        await a.get_by_test_id("chat-input").fill("first chat line")
        await a.get_by_test_id("chat-input").press("Enter")
        await expect(b.get_by_test_id("chat-log")).to_contain_text("first chat line")
        await b.get_by_test_id("report-button").click()
        await expect(b.get_by_test_id("report-reason")).to_be_focused()
        nexts_before = len(fb.events("next"))
        await a.get_by_test_id("end-button").click()
        await expect(b.get_by_test_id("status")).to_contain_text("left", timeout=WAIT_MS)
        await expect(b.get_by_test_id("requeue-countdown")).to_be_visible()
        # B looks again by itself (the toggle is on by default) and says why.
        await expect(b.get_by_test_id("status")).to_contain_text(
            "looking for someone new", timeout=WAIT_MS
        )
        assert len(fb.events("next")) == nexts_before + 1
        tag = await b.evaluate(
            "() => JSON.parse(localStorage.getItem('connect.strangers.prefs')).interests"
        )
        ctx_c, c, _ = await visitor(browser, web_server, mode="text", interests=tag)
        await c.get_by_test_id("start-button").click()
        await wait_matched(c)
        await expect(b.get_by_test_id("status")).to_have_text(
            "Connected to a stranger", timeout=WAIT_MS
        )
        # A clean screen: no old transcript, no report box from the last chat.
        await expect(b.get_by_test_id("chat-log")).not_to_contain_text("first chat line")
        await expect(b.get_by_test_id("report-reason")).to_have_count(0)
        await expect(b.get_by_test_id("chat-input")).to_be_focused()
    finally:
        for x in ctxs:
            await x.close()
        if ctx_c:
            await ctx_c.close()


async def test_choices_are_remembered_across_a_reload(browser: Browser, web_server: Server) -> None:
    ctx, page, _ = await visitor(browser, web_server, mode="text", interests="Chess, Go")
    try:
        await page.get_by_test_id("language-select").select_option("de")
        await page.get_by_test_id("country-list").check()
        await page.get_by_test_id("countries-input").fill("de, at")
        await page.get_by_test_id("auto-requeue").uncheck()
        await page.get_by_test_id("hide-country").check()
        await page.reload()
        await expect(page.get_by_test_id("interests-input")).to_have_value("chess, go")
        await expect(page.get_by_test_id("language-select")).to_have_value("de")
        await expect(page.get_by_test_id("country-list")).to_be_checked()
        await expect(page.get_by_test_id("countries-input")).to_have_value("DE, AT")
        await expect(page.get_by_test_id("auto-requeue")).not_to_be_checked()
        await expect(page.get_by_test_id("hide-country")).to_be_checked()
        await expect(page.get_by_test_id("mode-text")).to_have_attribute("aria-pressed", "true")
    finally:
        await ctx.close()


async def test_german_and_arabic_browsers(
    browser: Browser, web_server: Server, shots: Path
) -> None:
    ctx_de, de, _ = await visitor(browser, web_server, locale="de-DE", consent=False)
    ctx_ar, ar, _ = await visitor(browser, web_server, locale="ar-EG", consent=False)
    try:
        await expect(de.get_by_test_id("consent-accept")).to_have_text("Ich bin 18+ und stimme zu")
        assert await de.evaluate("() => document.documentElement.lang") == "de"
        await de.get_by_test_id("consent-accept").click()
        await expect(de.get_by_test_id("start-button")).to_have_text("Starten")
        await expect(de.get_by_test_id("ui-language")).to_have_value("de")

        await expect(ar.get_by_test_id("consent-accept")).to_have_text(
            "عمري 18 عامًا أو أكثر وأوافق"
        )
        assert await ar.evaluate(
            "() => [document.documentElement.lang, document.documentElement.dir]"
        ) == [
            "ar",
            "rtl",
        ]
        await ar.get_by_test_id("consent-accept").click()
        await expect(ar.get_by_test_id("start-button")).to_have_text("ابدأ")
        # Laid out right to left: the start button's text starts at the right.
        align = await ar.evaluate(
            "() => getComputedStyle(document.querySelector('.card h1')).direction"
        )
        assert align == "rtl"
        await ar.screenshot(path=str(shots / "start-phone-arabic.png"))
        # The switcher changes language (and direction) on the spot, and is remembered.
        await ar.get_by_test_id("ui-language").select_option("fr")
        await expect(ar.get_by_test_id("start-button")).to_have_text("Commencer")
        assert await ar.evaluate("() => document.documentElement.dir") == "ltr"
        await ar.reload()
        await expect(ar.get_by_test_id("start-button")).to_have_text("Commencer")
    finally:
        await ctx_de.close()
        await ctx_ar.close()


async def tab_to(page: Page, testid: str, limit: int = 60) -> None:
    for _ in range(limit):
        if await page.evaluate("() => document.activeElement?.dataset?.testid || ''") == testid:
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{testid} not reachable with Tab")


async def test_the_whole_flow_by_keyboard(browser: Browser, web_server: Server) -> None:
    tag = f"kb{time.monotonic_ns() % 10**10}"
    ctx_a, a, _ = await visitor(browser, web_server, consent=False)
    ctx_b, b, _ = await visitor(browser, web_server, mode="text", interests=tag)
    try:
        kb = a.keyboard
        await tab_to(a, "consent-accept")
        await kb.press("Enter")
        await tab_to(a, "mode-text")
        await kb.press("Space")
        await tab_to(a, "interests-input")
        await kb.type(tag)
        await tab_to(a, "start-button")
        await kb.press("Enter")
        await expect(a.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)
        await b.get_by_test_id("start-button").click()
        await wait_matched(a)
        # Focus goes to the message box on a match.
        await expect(a.get_by_test_id("chat-input")).to_be_focused(timeout=WAIT_MS)
        await kb.type("typed by keyboard")
        await kb.press("Enter")
        await expect(b.get_by_test_id("chat-log")).to_contain_text("typed by keyboard")
        # The report form takes focus and gives it back.
        await tab_to(a, "report-button")
        await kb.press("Enter")
        await expect(a.get_by_test_id("report-reason")).to_be_focused()
        await kb.press("Escape")
        await expect(a.get_by_test_id("report-button")).to_be_focused()
        await expect(a.get_by_test_id("report-reason")).to_have_count(0)
        # Esc twice = Next (listed on screen).
        await expect(a.get_by_test_id("shortcuts")).to_contain_text("Esc twice")
        await kb.press("Escape")
        await expect(a.get_by_test_id("esc-armed")).to_be_visible()
        await kb.press("Escape")
        await expect(b.get_by_test_id("status")).to_contain_text("skipped", timeout=WAIT_MS)
        await expect(a.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)
        # B (the one skipped) has focus on Next when its chat ends.
        await expect(b.get_by_test_id("next-button")).to_be_focused()
    finally:
        await ctx_a.close()
        await ctx_b.close()


async def test_every_strangers_screen_fits_and_passes_axe(
    browser: Browser, web_server: Server, shots: Path
) -> None:
    problems: list[str] = []
    ctx, page, _ = await visitor(browser, web_server, consent=False)
    ctxs: list[BrowserContext] = [ctx]
    try:
        problems += await check_screen(page, "consent", shots)
        await page.get_by_test_id("consent-accept").click()
        await expect(page.get_by_test_id("preview-video")).to_be_visible()
        problems += await check_screen(page, "start", shots)
        # Waiting alone (unique interests, video).
        await page.get_by_test_id("interests-input").fill(f"alone{time.monotonic_ns()}")
        await page.get_by_test_id("start-button").click()
        await expect(page.get_by_test_id("waiting-panel")).to_be_visible(timeout=WAIT_MS)
        problems += await check_screen(page, "waiting", shots, controls=True)
        await page.get_by_test_id("end-button").click()

        pc, a, _, _b, _ = await pair(browser, web_server)
        ctxs += pc
        await wait_frames_rising(a)
        problems += await check_screen(a, "call", shots, controls=True)
        await a.get_by_test_id("report-button").click()
        problems += await check_screen(a, "report", shots, controls=False)
        await a.keyboard.press("Escape")
        tc, ta, _, tb, _ = await pair(browser, web_server, mode="text")
        ctxs += tc
        await ta.get_by_test_id("chat-input").fill("hello there")
        await ta.get_by_test_id("chat-input").press("Enter")
        problems += await check_screen(ta, "text-chat", shots, controls=True)
        await ta.get_by_test_id("end-button").click()
        await expect(tb.get_by_test_id("status")).to_contain_text("left", timeout=WAIT_MS)
        await tb.get_by_test_id("requeue-cancel").click()
        problems += await check_screen(tb, "ended", shots, controls=True)
    finally:
        for x in ctxs:
            await x.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def geo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a 2 s match timeout whose visitors' countries come from a trusted header."""
    srv = start_server(
        tmp_path_factory.mktemp("first-minute-server"),
        {
            "CONNECT_MATCH_TIMEOUT_S": "2",
            "CONNECT_QUEUE_STATUS_S": "1",
            "CONNECT_TRUSTED_PROXIES": "127.0.0.1/32",
            "CONNECT_GEOIP_HEADER": "X-Test-Country",
        },
    )
    yield srv
    srv.stop()


async def from_country(
    browser: Browser, server: Server, country: str, interests: str
) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(
        viewport={"width": 390, "height": 844}, extra_http_headers={"X-Test-Country": country}
    )
    page = await ctx.new_page()
    await page.goto(server.http + "/")
    await page.get_by_test_id("consent-accept").click()
    await page.get_by_test_id("mode-text").click()
    await page.get_by_test_id("interests-input").fill(interests)
    return ctx, page


async def test_match_timeout_notice_and_one_click_widen_leads_to_a_match(
    browser: Browser, geo_server: Server
) -> None:
    tag = f"wide{time.monotonic_ns() % 10**10}"
    ctx_a, a = await from_country(browser, geo_server, "DE", tag)
    ctx_b, b = await from_country(browser, geo_server, "FR", tag)
    try:
        await a.get_by_test_id("language-select").select_option("de")
        await b.get_by_test_id("language-select").select_option("fr")
        await a.get_by_test_id("start-button").click()
        await b.get_by_test_id("start-button").click()
        # Their languages keep them apart; A is told what narrows the search.
        await expect(a.get_by_test_id("narrow-hint")).to_be_visible(timeout=WAIT_MS)
        await expect(a.get_by_test_id("queue-counts")).to_contain_text("waiting", timeout=WAIT_MS)
        notice = a.get_by_test_id("match-timeout")
        await expect(notice).to_contain_text("still in the queue", timeout=WAIT_MS)
        await expect(notice).to_contain_text("Any language")
        assert not await a.evaluate("() => Boolean(window.__connect.sessionId)")
        await a.get_by_test_id("widen-button").click()
        await wait_matched(a)
        await wait_matched(b)
        await expect(b.get_by_test_id("partner-country")).to_contain_text("Germany")
        await expect(a.get_by_test_id("partner-country")).to_contain_text("France")
    finally:
        await ctx_a.close()
        await ctx_b.close()


async def test_my_country_preference_is_honoured(browser: Browser, geo_server: Server) -> None:
    tag = f"cc{time.monotonic_ns() % 10**10}"
    ctx_a, a = await from_country(browser, geo_server, "DE", tag)
    ctx_b, b = await from_country(browser, geo_server, "AT", tag)
    ctx_c, c = await from_country(browser, geo_server, "DE", tag)
    try:
        await a.get_by_test_id("country-mine").check()
        await a.get_by_test_id("start-button").click()
        await expect(a.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)
        await b.get_by_test_id("start-button").click()
        await expect(b.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)
        # The Austrian visitor is not matched with A (waiting together, past a queue-status round).
        await expect(a.get_by_test_id("queue-counts")).to_contain_text("2 waiting", timeout=WAIT_MS)
        assert not await a.evaluate("() => Boolean(window.__connect.sessionId)")
        await c.get_by_test_id("start-button").click()
        await wait_matched(a)
        await wait_matched(c)
        await expect(a.get_by_test_id("partner-country")).to_contain_text("Germany")
        assert not await b.evaluate("() => Boolean(window.__connect.sessionId)")
    finally:
        for x in (ctx_a, ctx_b, ctx_c):
            await x.close()


async def test_ban_screen_fits_and_passes_axe(
    browser: Browser, web_server: Server, shots: Path
) -> None:
    """The ban screen (a 403 ``banned`` for the guest token, as the server answers a banned device)."""
    ctx, page, _ = await visitor(browser, web_server, mode="text", locale="de-DE")
    ban = {
        "until": "2031-01-02T03:04:05Z",
        "reason": "suspended pending review: reported by 3 people",
        "appeal": {"banId": "b-123", "token": "appeal-token", "url": "/api/appeals"},
        "reasonCode": "auto_reported",
        "reasonParams": {"reporters": 3},
    }

    async def banned(route: Any) -> None:
        body = {"error": {"code": "banned", "message": "banned"}, "ban": ban}
        await route.fulfill(status=403, content_type="application/json", body=json.dumps(body))

    await page.route("**/api/auth/token", banned)
    try:
        await page.get_by_test_id("start-button").click()
        await expect(page.get_by_test_id("ban-screen")).to_be_visible(timeout=WAIT_MS)
        # German words and a German date (Intl), e.g. "bis 02.01.2031, 04:04".
        await expect(page.get_by_test_id("ban-screen")).to_contain_text("Du wurdest gesperrt")
        await expect(page.get_by_test_id("ban-until")).to_contain_text("2031")
        await expect(page.get_by_test_id("ban-until")).to_contain_text("bis ")
        # An automatic ban's reason (worded by the server) in German, from its code.
        await expect(page.get_by_test_id("ban-reason")).to_have_text(
            "Vorläufig gesperrt bis zur Prüfung: von 3 Personen gemeldet"
        )
        problems = await check_screen(page, "ban", shots)
        assert not problems, "\n".join(problems)
    finally:
        await ctx.close()


async def test_dark_mode_follows_the_system_and_the_toggle_wins(
    browser: Browser, web_server: Server
) -> None:
    ctx, page, _ = await visitor(browser, web_server, scheme="dark")
    bg = "() => getComputedStyle(document.documentElement).backgroundColor"
    try:
        dark = await page.evaluate(bg)
        assert await page.evaluate("() => document.documentElement.dataset.theme") is None
        toggle = page.get_by_test_id("theme-toggle")
        await expect(toggle).to_have_accessible_name("Colour theme: System")
        await toggle.click()  # system → light
        await expect(toggle).to_have_accessible_name("Colour theme: Light")
        light = await page.evaluate(bg)
        assert light != dark, (light, dark)
        await page.reload()  # remembered
        assert await page.evaluate("() => document.documentElement.dataset.theme") == "light"
        assert await page.evaluate(bg) == light
        await page.get_by_test_id("theme-toggle").click()  # light → dark
        assert await page.evaluate(bg) == dark
    finally:
        await ctx.close()
