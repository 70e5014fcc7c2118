"""One simulated visitor, doing what the web app does, again and again until the run ends.

Token, hello, join; wait for a match. In a session the initiator sends the offer, the
other side answers, both send a few ICE candidates and the end-of-candidates ``null``,
and both chat. After its dwell time a visitor presses ``next`` (its partner receives
``peer-ended`` and presses ``next`` too); after a session some visitors disconnect
(a normal close) and come back as a new visitor with a new token.

Measured: match time (``join-queue``/``next`` sent to ``matched`` received), signaling
relay time (an offer's or answer's send to its arrival at the partner: the send time,
wall clock in ns, rides in an SDP attribute line, so it is measured across processes
of one machine) and chat relay time (the same, in the text). Every refused, timed-out
or failed request is an error, by its code.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connect.loadtest.stats import Tally
from connect.loadtest.wire import Gateway, WireError, guest_token

STAMP = "a=x-connect-loadtest:"
IN_SESSION = frozenset({"send-offer", "send-answer", "send-candidate", "send-message"})
CHAT_PREFIX = "loadtest "


@dataclass(frozen=True)
class Scenario:
    http: str
    ws: str
    mode: str = "video"
    interest: str = "loadtest"
    session_min_s: float = 5.0
    session_max_s: float = 20.0
    chat_lines: int = 2
    candidates: int = 2
    churn: float = 0.2  # after a session, the chance of disconnecting and starting over
    match_timeout_s: float = 30.0
    request_timeout_s: float = 10.0


def _sdp(kind: str, sent_ns: int) -> dict[str, str]:
    sdp = (
        "v=0\r\no=- 0 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
        f"a=mid:0\r\n{STAMP}{sent_ns}\r\n"
    )
    return {"type": kind, "sdp": sdp}


def _sent_ns(sdp: object) -> int | None:
    if not isinstance(sdp, str) or STAMP not in sdp:
        return None
    tail = sdp.split(STAMP, 1)[1].split("\r\n", 1)[0]
    return int(tail) if tail.isdigit() else None


class Visitor:
    def __init__(
        self,
        scenario: Scenario,
        tally: Tally,
        stop_at: float,
        rng: random.Random,
        wall_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.s = scenario
        self.t = tally
        self.stop_at = stop_at  # loop time at which the visitor disconnects
        self.rng = rng
        self.wall_ns = wall_ns
        self._loop = asyncio.get_running_loop()

    def _left(self) -> float:
        return self.stop_at - self._loop.time()

    async def run(self) -> None:
        """Visit after visit until the run ends; a failure costs one visit, not the rest."""
        self.t.gauge("users", 1)
        try:
            while self._left() > 0:
                try:
                    again = await self._visit()
                except WireError as exc:
                    self.t.request(False, exc.code)
                    again = True
                    # A refused or broken visit: back off a little before the next one.
                    await asyncio.sleep(min(max(self._left(), 0), self.rng.uniform(0.5, 2.0)))
                if not again:
                    return
        finally:
            self.t.gauge("users", -1)

    async def _visit(self) -> bool:
        token = await guest_token(self.s.http, self.s.request_timeout_s)
        self.t.request(True)
        gateway, _ = await Gateway.open(self.s.ws, token, self.s.request_timeout_s)
        self.t.request(True)
        self.t.gauge("connected", 1)
        try:
            await self._request(
                gateway, "join-queue", {"mode": self.s.mode, "interests": [self.s.interest]}
            )
            while self._left() > 0:
                matched = await self._wait_match(gateway)
                if matched is None:
                    return True  # the run ended while waiting
                await self._session(gateway, matched)
                if self._left() <= 0:
                    return False
                if self.rng.random() < self.s.churn:
                    self.t.count("disconnects")
                    return True  # a new visitor, a new token
                # Whoever's dwell ended skips; the partner, told peer-ended, waits again.
                await self._request(gateway, "next", {})
            return False
        finally:
            self.t.gauge("connected", -1)
            await gateway.close()

    async def _request(self, gateway: Gateway, event: str, data: dict[str, Any]) -> dict[str, Any]:
        try:
            ack = await gateway.request(event, data)
        except WireError as exc:
            if exc.code == "socket_closed":
                raise
            if exc.code == "not_in_session" and event in IN_SESSION:
                # The partner pressed next while this was on its way: the race every real
                # client has, answered as the contract says; counted, not an error.
                self.t.count("sent_after_partner_left")
                return {}
            self.t.request(False, exc.code)
            return {}
        self.t.request(True)
        return ack

    async def _wait_match(self, gateway: Gateway) -> dict[str, Any] | None:
        started = self._loop.time()
        self.t.gauge("waiting", 1)
        try:
            while True:
                left = self._left()
                if left <= 0:
                    return None
                waited = self._loop.time() - started
                if waited > self.s.match_timeout_s:
                    self.t.request(False, "match_timeout")
                    await self._request(gateway, "leave-queue", {})
                    await self._request(
                        gateway, "join-queue", {"mode": self.s.mode, "interests": [self.s.interest]}
                    )
                    started = self._loop.time()
                    continue
                frame = await gateway.next_event(min(left, self.s.match_timeout_s - waited + 0.01))
                if frame is None:
                    continue
                name = frame.get("event")
                if name == "matched":
                    self.t.request(True)
                    self.t.sample("match_ms", (self._loop.time() - started) * 1000)
                    self.t.count("matches")
                    data: dict[str, Any] = frame.get("data") or {}
                    return data
                self._other(frame)
        finally:
            self.t.gauge("waiting", -1)

    def _other(self, frame: dict[str, Any]) -> None:
        if frame.get("event") == "error":
            self.t.request(False, str((frame.get("data") or {}).get("code", "error")))
        elif frame.get("event") == "captcha-required":
            self.t.request(False, "captcha_required")

    async def _session(self, gateway: Gateway, matched: dict[str, Any]) -> bool:
        """One session until this visitor's dwell ends (True: the partner left first)."""
        self.t.gauge("in_session", 1)
        loop = self._loop
        try:
            video = matched.get("mode") == "video"
            dwell_until = loop.time() + self.rng.uniform(self.s.session_min_s, self.s.session_max_s)
            chat_times = sorted(
                loop.time() + self.rng.uniform(0.5, max(0.6, dwell_until - loop.time() - 0.5))
                for _ in range(self.s.chat_lines)
            )
            if video and matched.get("initiator"):
                await self._request(gateway, "send-offer", {"offer": _sdp("offer", self.wall_ns())})
                self.t.count("offers")
            while True:
                now = loop.time()
                if now >= dwell_until or self._left() <= 0:
                    return False
                wake = min([dwell_until, *chat_times[:1]])
                frame = await gateway.next_event(min(wake - now, self._left()))
                if chat_times and loop.time() >= chat_times[0]:
                    chat_times.pop(0)
                    text = f"{CHAT_PREFIX}{self.wall_ns()}"
                    await self._request(gateway, "send-message", {"text": text})
                    self.t.count("chat_sent")
                if frame is None:
                    continue
                name = frame.get("event")
                data = frame.get("data") or {}
                if name == "offer":
                    self._relayed(data.get("offer", {}).get("sdp"), "signal_ms")
                    await self._request(
                        gateway, "send-answer", {"answer": _sdp("answer", self.wall_ns())}
                    )
                    self.t.count("answers")
                    await self._candidates(gateway)
                elif name == "answer":
                    self._relayed(data.get("answer", {}).get("sdp"), "signal_ms")
                    await self._candidates(gateway)
                elif name == "candidate":
                    self.t.count("candidates_received")
                elif name == "message":
                    text = str(data.get("text", ""))
                    if text.startswith(CHAT_PREFIX):
                        self._relayed(text.removeprefix(CHAT_PREFIX), "chat_ms", raw=True)
                elif name == "peer-ended":
                    self.t.count("sessions_ended_by_peer")
                    return True
                else:
                    self._other(frame)
        finally:
            self.t.gauge("in_session", -1)

    async def _candidates(self, gateway: Gateway) -> None:
        for i in range(self.s.candidates):
            candidate = {
                "candidate": f"candidate:{i} 1 udp 2122260223 192.0.2.{i + 1} {50000 + i} typ host",
                "sdpMid": "0",
                "sdpMLineIndex": 0,
            }
            await self._request(gateway, "send-candidate", {"candidate": candidate})
        await self._request(gateway, "send-candidate", {"candidate": None})
        self.t.count("candidates_sent", self.s.candidates + 1)

    def _relayed(self, carrier: object, series: str, *, raw: bool = False) -> None:
        sent = (
            (int(carrier) if isinstance(carrier, str) and carrier.isdigit() else None)
            if raw
            else _sent_ns(carrier)
        )
        if sent is not None:
            self.t.sample(series, max(0.0, (self.wall_ns() - sent) / 1e6))
