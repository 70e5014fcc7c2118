"""A browser (the strangers app, video mode) calls a Python aiortc bot through the real gateway.

The bot takes a guest token over HTTP, joins the video queue second with the
browser's unique interest (so the browser, having waited longer, is the
initiator and offers), answers with an lavfi test pattern as its camera, and
relays candidates both ways over the gateway. Both directions must carry
decoded video.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any

import aioice.ice
import pytest
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp
from av import VideoFrame
from playwright.async_api import Browser, expect

from tests.e2e.rtc import WAIT_MS, close_pc, wait_frames_rising, wait_video_playing
from tests.e2e.test_browser_strangers import open_visitor, wait_matched
from tests.support.client import Peer, guest_token
from tests.support.server import Server

pytestmark = pytest.mark.e2e
WAIT_S = WAIT_MS / 1000


@pytest.fixture
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice leaves 127.0.0.1 out of its host addresses (docs/testing.md): in this namespace it is all there is."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


class Bot:
    """An aiortc peer driven by gateway events."""

    def __init__(self, gw: Peer, matched: dict[str, Any]) -> None:
        servers = [
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in matched["iceServers"]
        ]
        assert servers, "matched carried no iceServers: aiortc would fall back to public STUN"
        self.gw = gw
        self.initiator = bool(matched["initiator"])
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.player = MediaPlayer("testsrc=size=320x240:rate=30", format="lavfi")
        self.remote_video: asyncio.Future[MediaStreamTrack] = (
            asyncio.get_running_loop().create_future()
        )
        self.pending: list[dict[str, Any]] = []
        self.offers_answered = 0

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and not self.remote_video.done():
                self.remote_video.set_result(track)

    async def start(self) -> None:
        if self.initiator:
            assert self.player.video is not None
            self.pc.addTrack(self.player.video)
            await self.pc.setLocalDescription(await self.pc.createOffer())
            await self.gw.emit("send-offer", {"offer": self._local()})

    def _local(self) -> dict[str, str]:
        desc = self.pc.localDescription
        return {"type": desc.type, "sdp": desc.sdp}

    async def handle(self, frame: dict[str, Any]) -> None:
        event, data = frame.get("event"), frame.get("data") or {}
        if event == "offer":
            await self.pc.setRemoteDescription(RTCSessionDescription(**data["offer"]))
            if self.offers_answered == 0:
                assert self.player.video is not None
                self.pc.addTrack(self.player.video)
            self.offers_answered += 1
            # aiortc does not trickle: once set, the answer's SDP holds all its candidates.
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self.gw.emit("send-answer", {"answer": self._local()})
            await self._flush()
        elif event == "answer":
            await self.pc.setRemoteDescription(RTCSessionDescription(**data["answer"]))
            await self._flush()
        elif event == "candidate":
            c = data.get("candidate")
            if c and c.get("candidate"):
                self.pending.append(c)
                if self.pc.remoteDescription is not None:
                    await self._flush()

    async def _flush(self) -> None:
        pending, self.pending = self.pending, []
        for c in pending:
            cand = candidate_from_sdp(c["candidate"].split(":", 1)[1])
            cand.sdpMid = c.get("sdpMid")
            cand.sdpMLineIndex = c.get("sdpMLineIndex")
            with contextlib.suppress(ValueError):  # e.g. an mDNS name aioice cannot resolve
                await self.pc.addIceCandidate(cand)

    async def run(self) -> None:
        """Answer signaling frames until cancelled."""
        while True:
            frame = await self.gw.take(
                lambda f: f.get("event") in {"offer", "answer", "candidate"},
                "signaling",
                timeout=3600,
            )
            await self.handle(frame)

    async def close(self) -> None:
        if self.player.video is not None:
            self.player.video.stop()
        await self.pc.close()


async def test_browser_and_aiortc_bot_see_each_other(
    browser: Browser, web_server: Server, loopback_ice: None
) -> None:
    tag = f"bot{secrets.token_hex(4)}"
    ctx, page = await open_visitor(browser, web_server, "video", tag)
    gw: Peer | None = None
    bot: Bot | None = None
    runner: asyncio.Task[None] | None = None
    try:
        await page.get_by_test_id("start-button").click()
        await expect(page.get_by_test_id("status")).to_contain_text("Looking", timeout=WAIT_MS)

        gw = await Peer.connect(web_server.ws, await guest_token(web_server.http))
        joined = await gw.request("join-queue", {"mode": "video", "interests": [tag]})
        assert joined["ok"], joined
        matched = await gw.event("matched", timeout=WAIT_S)
        assert matched["mode"] == "video"
        assert matched["initiator"] is False, "the browser waited longer and must offer"
        await wait_matched(page)

        bot = Bot(gw, matched)
        await bot.start()
        runner = asyncio.create_task(bot.run())

        # Browser ← bot: the lavfi pattern plays in the page.
        await wait_video_playing(page, "remote-video")
        await wait_frames_rising(page)
        width = await page.evaluate(
            "() => document.querySelector('[data-testid=\"remote-video\"]').videoWidth"
        )
        assert width == 320

        # Bot ← browser: decoded frames of Chromium's fake camera.
        track = await asyncio.wait_for(bot.remote_video, WAIT_S)
        sizes = set()
        async with asyncio.timeout(WAIT_S):
            for _ in range(5):
                frame = await track.recv()
                assert isinstance(frame, VideoFrame), frame
                sizes.add((frame.width, frame.height))
        assert all(w > 0 and h > 0 for w, h in sizes), sizes
        assert bot.pc.connectionState == "connected"
        if runner.done():
            runner.result()  # re-raise what broke the bot's signaling loop
    finally:
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        if bot is not None:
            await bot.close()
        await close_pc(page)
        if gw is not None:
            await gw.close()
        await ctx.close()
