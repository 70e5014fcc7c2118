"""Page-side WebRTC probes shared by the e2e tests (no sleeps: every wait is a condition with a timeout).

They read ``window.__connect.pc`` — the RTCPeerConnection of the current call
(strangers session or contacts call, see web/src/lib/debug.ts).
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page

WAIT_MS = 20_000

_FRAMES_JS = """async () => {
    const pc = window.__connect && window.__connect.pc;
    if (!pc || pc.connectionState === 'closed') return -1;
    let frames = 0;
    (await pc.getStats()).forEach(r => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
    });
    return frames;
}"""


async def frames_decoded(page: Page) -> int:
    return int(await page.evaluate(_FRAMES_JS))


async def wait_frames_rising(page: Page, by: int = 10, timeout_ms: int = WAIT_MS) -> int:
    """Wait until inbound video framesDecoded has grown by ``by``; return the new count."""
    start = await frames_decoded(page)
    assert start >= 0, "no RTCPeerConnection on the page"
    handle = await page.wait_for_function(
        """async ([start, by]) => {
            const pc = window.__connect && window.__connect.pc;
            if (!pc) return false;
            let frames = 0;
            (await pc.getStats()).forEach(r => {
                if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
            });
            return frames >= start + by ? frames : false;
        }""",
        arg=[start, by],
        timeout=timeout_ms,
        polling=100,
    )
    return int(await handle.json_value())


async def wait_video_playing(page: Page, test_id: str, timeout_ms: int = WAIT_MS) -> None:
    """The <video data-testid=test_id> has a picture and its currentTime advances."""
    selector = f'[data-testid="{test_id}"]'
    t0 = await page.wait_for_function(
        """(sel) => {
            const v = document.querySelector(sel);
            return v && v.videoWidth > 0 && !v.paused && v.currentTime > 0 ? v.currentTime : false;
        }""",
        arg=selector,
        timeout=timeout_ms,
        polling=50,
    )
    start = float(await t0.json_value())
    await page.wait_for_function(
        """([sel, start]) => {
            const v = document.querySelector(sel);
            return v && v.videoWidth > 0 && v.currentTime > start + 0.2;
        }""",
        arg=[selector, start],
        timeout=timeout_ms,
        polling=50,
    )


async def selected_pair(page: Page) -> dict[str, Any]:
    """The selected candidate pair (transport → selectedCandidatePairId) with both candidates."""
    result: dict[str, Any] = await page.evaluate(
        """async () => {
            const pc = window.__connect && window.__connect.pc;
            if (!pc) return {};
            const byId = new Map();
            (await pc.getStats()).forEach(r => byId.set(r.id, r));
            for (const r of byId.values()) {
                if (r.type === 'transport' && r.selectedCandidatePairId) {
                    const pair = byId.get(r.selectedCandidatePairId);
                    if (!pair) continue;
                    const l = byId.get(pair.localCandidateId) || {};
                    const rc = byId.get(pair.remoteCandidateId) || {};
                    return {
                        state: pair.state,
                        local: {type: l.candidateType, address: l.address, port: l.port,
                                protocol: l.protocol, relayProtocol: l.relayProtocol},
                        remote: {type: rc.candidateType, address: rc.address, port: rc.port},
                        bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived,
                    };
                }
            }
            return {};
        }"""
    )
    return result


async def close_pc(page: Page) -> None:
    """Close the page's call RTCPeerConnection (before its context closes: coturn keeps allocations)."""
    if page.is_closed():
        return
    await page.evaluate(
        """() => { const c = window.__connect; if (c && c.pc && c.pc.connectionState !== 'closed') c.pc.close(); }"""
    )
