"""Screen checks shared by the browser e2e tests of the three apps: axe-core
(critical and serious violations), horizontal overflow and controls inside the
viewport, at the four sizes of issue 15, in light and dark, with screenshots
at phone, tablet and desktop size.

Moved here from test_browser_first_minute.py so the strangers and contacts
screen tests run the very same checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playwright.async_api import Page

WAIT_MS = 20_000
AXE = Path(__file__).parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
SIZES = [(360, 640), (390, 844), (768, 1024), (1280, 800)]
SHOT_SIZES = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1280, 800)}
# The strangers call controls that must stay on screen (controls=True).
STRANGERS_CONTROLS = ("next-button", "end-button")


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's critical and serious violations on the page as it is now
    (the context needs ``bypass_csp=True``: axe is injected as a script)."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const r = await axe.run(document, { resultTypes: ['violations'] });
            return r.violations
                .filter(v => v.impact === 'critical' || v.impact === 'serious')
                .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                             nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ')) }));
        }"""
    )
    return found


def _control_ids(controls: bool | Sequence[str]) -> tuple[str, ...]:
    if controls is True:
        return STRANGERS_CONTROLS
    if controls is False:
        return ()
    return tuple(controls)


async def assert_fits(page: Page, where: str, controls: bool | Sequence[str]) -> None:
    """No horizontal overflow; each of `controls` (test ids; True = the
    strangers Next and End) fully inside the viewport, without scrolling."""
    ids = list(_control_ids(controls))
    m = await page.evaluate(
        """(ids) => {
            const vw = window.innerWidth, vh = window.innerHeight;
            const box = id => { const e = document.querySelector(`[data-testid="${id}"]`);
                                if (!e) return null; const r = e.getBoundingClientRect();
                                return [r.left, r.top, r.right, r.bottom]; };
            return { vw, vh, sw: document.documentElement.scrollWidth,
                     boxes: Object.fromEntries(ids.map(id => [id, box(id)])) };
        }""",
        ids,
    )
    assert m["sw"] <= m["vw"], f"{where}: horizontal overflow {m}"
    for key in ids:
        assert m["boxes"][key] is not None, f"{where}: {key} missing {m}"
        left, top, right, bottom = m["boxes"][key]
        assert left >= 0, f"{where}: {key} off screen {m}"
        assert right <= m["vw"] + 0.5, f"{where}: {key} off screen {m}"
        assert top >= 0, f"{where}: {key} below the fold {m}"
        assert bottom <= m["vh"] + 0.5, f"{where}: {key} below the fold {m}"


async def check_screen(
    page: Page,
    name: str,
    shots: Path,
    *,
    controls: bool | Sequence[str] = False,
    shoot: bool = True,
) -> list[str]:
    """Every size, light and dark: fits, axe clean; screenshots at phone, tablet and desktop size."""
    problems: list[str] = []
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        for w, h in SIZES:
            await page.set_viewport_size({"width": w, "height": h})
            await page.wait_for_function(
                "([w]) => window.innerWidth === w", arg=[w], timeout=WAIT_MS
            )
            where = f"{name} {w}x{h} {scheme}"
            await assert_fits(page, where, controls)
            for v in await axe_violations(page):
                problems.append(f"{where}: {v}")
            for label, size in SHOT_SIZES.items():
                if shoot and (w, h) == size:
                    await page.screenshot(path=str(shots / f"{name}-{label}-{scheme}.png"))
    await page.emulate_media(color_scheme="light")
    return problems
