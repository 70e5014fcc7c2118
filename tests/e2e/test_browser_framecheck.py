"""Automated frame moderation in real browsers (issue 17).

A Connect server with frame checking on and the built-in TEST classifier
(``test-colour``: it scores how red a frame is; named as the test-only
classifier it is) runs beside Chromium. Two kinds of camera:

* the usual fake camera (Chromium's test pattern, not red): its frames reach the
  server at the policy's schedule and pass;
* a second Chromium whose fake camera plays a solid red video file made here:
  every frame scores ~1 on ``TEST_RED``, above the action threshold.

Checked: the schedule (first frame ``firstAfterMs`` after the match, then random
waits within the policy's bounds; the server counts what the clients sent), no
frames at all from a text chat, the partner's video blurred at once with the
notice and a focused Next, the sender told, and the automatic report in the
moderator's queue with its frame and scores, marked wrong from the dashboard.
Screenshots (phone and desktop) go to artifacts/e2e/.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    ViewportSize,
    async_playwright,
    expect,
)

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Turn
from tests.e2e.screens import AXE, check_screen
from tests.e2e.test_browser_strangers import WAIT_MS, open_visitor, wait_matched
from tests.support.http import loopback_get
from tests.support.server import Server, start_server
from tests.support.staff import StaffClient, login, new_admin

pytestmark = pytest.mark.e2e

FIRST_AFTER_MS = 1500
MEAN_INTERVAL_MS = 2000
MAX_WIDTH = 320
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def fc_server(tmp_path_factory: pytest.TempPathFactory, turn: Turn) -> Iterator[Server]:
    """A server of its own: frame checking on, the test classifier, a fast schedule."""
    srv = start_server(
        tmp_path_factory.mktemp("framecheck-server"),
        {
            "CONNECT_TURN_SECRET": turn.secret,
            "CONNECT_TURN_URLS": f"turn:127.0.0.1:{turn.port}?transport=udp",
            "CONNECT_STUN_URLS": f"stun:127.0.0.1:{turn.port}",
            "CONNECT_FRAMECHECK_ENABLED": "true",
            "CONNECT_FRAMECHECK_CLASSIFIER": "test-colour",
            "CONNECT_FRAMECHECK_FIRST_AFTER_MS": str(FIRST_AFTER_MS),
            "CONNECT_FRAMECHECK_MEAN_INTERVAL_MS": str(MEAN_INTERVAL_MS),
            "CONNECT_FRAMECHECK_MAX_WIDTH": str(MAX_WIDTH),
            "CONNECT_FRAMECHECK_REVIEW_THRESHOLD": "0.5",
            "CONNECT_FRAMECHECK_ACTION_THRESHOLD": "0.8",
            "CONNECT_RATE_FRAMES": "10000/minute",
        },
    )
    yield srv
    srv.stop()


def red_y4m(path: Path, width: int = 640, height: int = 480, frames: int = 4) -> Path:
    """A solid red YUV4MPEG2 clip for Chromium's file-backed fake camera (BT.601: Y 81, U 90, V 240)."""
    header = f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode()
    y = bytes([81]) * (width * height)
    uv = (width // 2) * (height // 2)
    frame = b"FRAME\n" + y + bytes([90]) * uv + bytes([240]) * uv
    path.write_bytes(header + frame * frames)
    return path


@pytest.fixture(scope="module")
async def red_browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Browser]:
    """A Chromium whose fake camera shows solid red (what the test classifier flags)."""
    clip = red_y4m(tmp_path_factory.mktemp("red-camera") / "red.y4m")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={clip}"],
        )
        yield b
        await b.close()


async def open_page(
    browser: Browser,
    server: Server,
    mode: str,
    interests: str,
    *,
    init: str | None = None,
    bypass_csp: bool = False,
    consent_text: str | None = None,
) -> tuple[BrowserContext, Page]:
    """A visitor's phone-sized page past the rules, with a script run before the app."""
    ctx = await browser.new_context(viewport=PHONE, bypass_csp=bypass_csp)
    if init:
        await ctx.add_init_script(init)
    page = await ctx.new_page()
    await page.goto(server.http + "/")
    if consent_text:
        await expect(page.get_by_test_id("consent-framecheck")).to_contain_text(consent_text)
    await page.get_by_test_id("consent-accept").click()
    await page.get_by_test_id(f"mode-{mode}").click()
    await page.get_by_test_id("interests-input").fill(interests)
    return ctx, page


def received_frames(server: Server) -> float:
    """``connect_framecheck_frames_total{outcome="received"}`` from the server's /metrics."""
    text = loopback_get(server.http + "/metrics", timeout=5).text
    m = re.search(
        r'^connect_framecheck_frames_total\{outcome="received"\} ([0-9.e+]+)$', text, re.M
    )
    assert m, "the frame-check metric is exported"
    return float(m.group(1))


async def sampler_stats(page: Page) -> dict[str, Any] | None:
    stats: dict[str, Any] | None = await page.evaluate(
        """() => {
            const s = window.__connect && window.__connect.controller.frames.current;
            return s ? JSON.parse(JSON.stringify(s.stats)) : null;
        }"""
    )
    return stats


def frame_requests(page: Page) -> list[Request]:
    seen: list[Request] = []
    page.on("request", lambda r: seen.append(r) if r.url.endswith("/frames") else None)
    return seen


async def test_frames_follow_the_policy_and_a_text_chat_sends_none(
    browser: Browser, fc_server: Server
) -> None:
    tag = f"fcs{time.monotonic_ns() % 10**9}"
    ctx_a, a = await open_visitor(browser, fc_server, "video", tag)
    # This one has no ImageCapture: its frames take the <video> + canvas path.
    ctx_b, b = await open_page(browser, fc_server, "video", tag, init="delete window.ImageCapture;")
    ttag = f"fct{time.monotonic_ns() % 10**9}"
    ctx_c, c = await open_visitor(browser, fc_server, "text", ttag)
    ctx_d, d = await open_visitor(browser, fc_server, "text", ttag)
    assert await b.evaluate("() => typeof window.ImageCapture") == "undefined"
    sent_a, sent_b = frame_requests(a), frame_requests(b)
    sent_c, sent_d = frame_requests(c), frame_requests(d)
    try:
        before = received_frames(fc_server)
        for page in (c, d, a, b):
            await page.get_by_test_id("start-button").click()
        for page in (c, d, a, b):
            await wait_matched(page)

        # Both video visitors reach 4 accepted frames: ~1.5 s + 3 waits of ~2 s.
        for page in (a, b):
            await page.wait_for_function(
                """() => {
                    const s = window.__connect.controller.frames.current;
                    return s && s.stats.sent >= 4;
                }""",
                timeout=40_000,
                polling=200,
            )
        for page, sent in ((a, sent_a), (b, sent_b)):
            stats = await sampler_stats(page)
            assert stats is not None
            # First frame firstAfterMs after the match (+ capture/upload time), not before.
            assert stats["delays"][0] == FIRST_AFTER_MS
            assert FIRST_AFTER_MS <= stats["sentAt"][0] < FIRST_AFTER_MS + 3000, stats
            # Later waits are random but inside [0.25, 4] x the mean ...
            waits = stats["delays"][1:]
            assert waits
            assert all(MEAN_INTERVAL_MS / 4 <= w <= MEAN_INTERVAL_MS * 4 for w in waits), waits
            # ... and not all equal (a fixed period would be predictable).
            assert len(set(waits)) > 1, waits
            gaps = [t1 - t0 for t0, t1 in zip(stats["sentAt"], stats["sentAt"][1:], strict=False)]
            assert all(g >= MEAN_INTERVAL_MS / 4 - 50 for g in gaps), gaps
            assert stats["failed"] == 0, stats
            assert stats["backoffs"] == 0, stats
            # The uploads are JPEGs with the visitor's bearer token (the bytes themselves
            # are checked in the other test, as the automatic report's evidence).
            first = sent[0]
            assert first.method == "POST"
            assert first.headers["content-type"] == "image/jpeg"
            assert first.headers["authorization"].startswith("Bearer ")

        # The server received what the two video visitors sent (none from the text pair);
        # at most one upload per visitor may be in flight either side of the two readings.
        received = received_frames(fc_server) - before
        sent_total = 0
        for page in (a, b):
            stats = await sampler_stats(page)
            assert stats is not None
            sent_total += stats["sent"]
        assert sent_total >= 8
        assert abs(received - sent_total) <= 2, (received, sent_total)
        assert sent_c == []
        assert sent_d == []
        for page in (c, d):
            assert await sampler_stats(page) is None

        # Next stops the sampling at once.
        await a.get_by_test_id("next-button").click()
        await expect(a.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)
        assert await sampler_stats(a) is None
        assert await sampler_stats(b) is None
    finally:
        for ctx in (ctx_a, ctx_b, ctx_c, ctx_d):
            await ctx.close()


def jpeg_width(data: bytes) -> int:
    """The width in a JPEG's SOF0/SOF2 header (enough to check the scaling)."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[i + 7 : i + 9], "big")
        i += 2 + length
    raise AssertionError("no SOF marker in the JPEG")


async def panel_axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's critical/serious findings inside the automatic-report panel only (the
    rest of the dashboard is another test's business)."""
    await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const el = document.querySelector('[data-testid="auto-report"]');
            const r = await axe.run(el, { resultTypes: ['violations'] });
            return r.violations
                .filter(v => v.impact === 'critical' || v.impact === 'serious')
                .map(v => ({ id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) }));
        }"""
    )
    return found


async def new_moderator_login(server: Server) -> tuple[StaffClient, str, str]:
    admin, _, _ = await new_admin(server)
    email = f"mod-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(16)
    r = await admin.call(
        "POST",
        "/api/admin/staff",
        json={"email": email, "password": password, "displayName": "Mod", "role": "moderator"},
    )
    assert r.status_code == 201, r.text
    return await login(server, email, password), email, password


async def test_flagged_camera_is_hidden_reported_and_marked_wrong(
    browser: Browser, red_browser: Browser, fc_server: Server, artifacts: Path
) -> None:
    tag = f"fcr{time.monotonic_ns() % 10**9}"
    ctx_s, sender = await open_visitor(red_browser, fc_server, "video", tag)
    # The partner accepted the rules before frame checks existed (they are shown again),
    # and their page is checked with axe-core, which is injected as a script.
    ctx_p, partner = await open_page(
        browser,
        fc_server,
        "video",
        tag,
        init="localStorage.setItem('connect.consent', 'yes');",
        bypass_csp=True,
        consent_text="frames of your camera may be checked automatically",
    )
    ctx_m: BrowserContext | None = None
    try:
        await sender.get_by_test_id("start-button").click()
        await partner.get_by_test_id("start-button").click()
        await wait_matched(sender)
        await wait_matched(partner)
        session_id = await partner.evaluate("() => window.__connect.sessionId")

        # The partner: the sender's video blurred, told why, Next offered and focused.
        overlay = partner.get_by_test_id("video-hidden")
        await expect(overlay).to_be_visible(timeout=WAIT_MS)
        await expect(overlay).to_contain_text(
            "Your partner's video was hidden by automatic moderation"
        )
        remote = partner.get_by_test_id("remote-video")
        await expect(remote).to_have_class(re.compile(r"\bmoderated\b"))
        blur = await remote.evaluate("v => getComputedStyle(v).filter")
        assert "blur(" in blur, blur
        await expect(partner.get_by_test_id("video-hidden-next")).to_be_focused()
        # The sender: told their video was hidden from the partner.
        flagged = sender.get_by_test_id("video-flagged")
        await expect(flagged).to_be_visible(timeout=WAIT_MS)
        await expect(flagged).to_contain_text("hidden from your partner")
        # The partner's own (not red) camera was never flagged.
        await expect(partner.get_by_test_id("video-flagged")).to_have_count(0)
        await expect(sender.get_by_test_id("video-hidden")).to_have_count(0)

        await sender.screenshot(path=str(artifacts / "framecheck-flagged-phone.png"))
        # Four sizes, light and dark: no overflow, the overlay's Next and the call's
        # Next/End on screen, no serious axe-core finding; phone/tablet/desktop shots.
        problems = await check_screen(
            partner,
            "framecheck-hidden",
            artifacts,
            controls=("video-hidden-next", "next-button", "end-button"),
        )
        assert problems == [], "\n".join(problems)
        await expect(overlay).to_be_visible()
        await partner.set_viewport_size(PHONE)

        # The automatic report is in the queue, with the frame and its scores.
        mod, email, password = await new_moderator_login(fc_server)
        report: dict[str, Any] | None = None
        deadline = time.monotonic() + WAIT_MS / 1000
        while report is None and time.monotonic() < deadline:
            r = await mod.call("GET", "/api/admin/reports")
            assert r.status_code == 200, r.text
            report = next(
                (
                    x
                    for x in r.json()["reports"]
                    if x["source"] == "auto" and x["sessionId"] == session_id
                ),
                None,
            )
            if report is None:
                await partner.wait_for_timeout(250)  # polling the queue, bounded by the deadline
        assert report is not None, "an automatic report was filed"
        assert report["reason"] == "nudity"
        assert report["hasEvidence"] is True
        assert report["scores"]["TEST_RED"] >= 0.8
        assert report["falsePositive"] is False
        evidence = await mod.call("GET", f"/api/admin/reports/{report['id']}/evidence")
        assert evidence.status_code == 200
        assert evidence.content[:3] == b"\xff\xd8\xff"
        assert jpeg_width(evidence.content) == MAX_WIDTH  # the 640 px camera, scaled down

        ctx_m = await browser.new_context(viewport=DESKTOP, bypass_csp=True)  # for axe-core
        m = await ctx_m.new_page()
        await m.goto(fc_server.http + "/admin/")
        await m.get_by_test_id("admin-email").fill(email)
        await m.get_by_test_id("admin-password").fill(password)
        await m.get_by_test_id("admin-login").click()
        await m.get_by_test_id("nav-reports").click()
        row = m.get_by_test_id("report-row").filter(has_text="nudity").first
        await expect(row).to_be_visible(timeout=WAIT_MS)
        await row.click()
        panel = m.get_by_test_id("auto-report")
        await expect(panel).to_be_visible(timeout=WAIT_MS)
        await expect(m.get_by_test_id("report-auto-badge")).to_be_visible()
        score_row = m.locator('[data-testid="auto-score-row"][data-label="TEST_RED"]')
        await expect(score_row).to_be_visible()
        await expect(score_row).to_contain_text("%")
        frame = panel.get_by_test_id("report-evidence")
        await expect(frame).to_be_visible(timeout=WAIT_MS)
        await m.wait_for_function(
            """() => {
                const img = document.querySelector('[data-testid="auto-report"] [data-testid="report-evidence"]');
                return img && img.complete && img.naturalWidth > 0;
            }""",
            timeout=WAIT_MS,
        )
        width = await frame.evaluate("img => img.naturalWidth")
        assert 0 < width <= MAX_WIDTH
        await m.screenshot(path=str(artifacts / "framecheck-admin-desktop.png"), full_page=True)
        assert await panel_axe_violations(m) == []

        await m.get_by_test_id("auto-mark-wrong").click()
        await expect(m.get_by_test_id("auto-marked-wrong")).to_be_visible(timeout=WAIT_MS)
        r = await mod.call("GET", f"/api/admin/reports/{report['id']}")
        assert r.json()["falsePositive"] is True
        await m.set_viewport_size(PHONE)
        await m.screenshot(path=str(artifacts / "framecheck-admin-phone.png"), full_page=True)

        # Next from the blurred state: the partner looks for someone new.
        await partner.get_by_test_id("video-hidden-next").click()
        await expect(partner.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)
        await expect(partner.get_by_test_id("video-hidden")).to_have_count(0)
    finally:
        await ctx_s.close()
        await ctx_p.close()
        if ctx_m is not None:
            await ctx_m.close()
