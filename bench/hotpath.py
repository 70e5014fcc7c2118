"""In-process cost of one relayed frame: the gateway's read-callback path, no sockets.

What ``bench.load``'s ``pingpong`` measures from outside includes the kernel and
picows; this measures only Connect's own Python for one chat line (or ``typing``),
the way picows' read callback runs it: ``Link.received`` → ``GatewayEndpoint._take``
→ validation → the relay handler → the word filter → ``Hub.deliver`` → the codec
→ the transport's ``send_text`` (here a transport that encodes and drops). Two
guests are opened, say hello and are matched through the real service graph
(memory backend, SQLite in a temporary directory), then A sends frames to B.

Two measures, both robust to a shared machine:

- CPU time of the thread (``time.thread_time``), the best of ``--repeat`` passes of
  ``--frames`` frames (other load only ever adds time; time spent descheduled is
  not counted at all);
- ``--callgrind``: user-space instructions per frame, one valgrind run per case,
  counted only around the loop (``callgrind_control -i on/off``).

``CONNECT_PURE_PYTHON=1`` runs the pure-Python modules where compiled ones are
built (:mod:`connect.compiled`); the output names the modules that ran compiled.

    .venv/bin/python -m bench.hotpath [--frames 2000] [--repeat 50] [--callgrind] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from connect import compiled
from connect.clock import SystemClock
from connect.gateway.link import Link
from connect.services import build_services
from connect.settings import Settings
from connect.storage.migrate import upgrade

# The same lifted limits as bench.load (the limiters still run on every frame).
BENCH_SETTINGS: dict[str, Any] = {
    "rate_token": "100000000/minute",
    "rate_hello": "100000000/minute",
    "rate_join": "100000000/minute",
    "rate_chat": "1000000/second",
    "event_rate_per_s": 1_000_000,
    "event_burst": 1_000_000,
    "token_churn_devices": 100_000_000,
    "next_streak_count": 100_000_000,
    "log_level": "warning",
}
LONG_LINE = (
    "hi there, how are you doing today? good, thanks, and what about you, "
    "anything fun planned for the weekend or just resting at home"
)
CASES: dict[str, dict[str, Any]] = {
    "send-message ping": {"event": "send-message", "data": {"text": "ping"}},
    "send-message 126 chars": {"event": "send-message", "data": {"text": LONG_LINE}},
    "typing": {"event": "typing", "data": {"active": True}},
}


class NullTransport:
    """A socket whose writes vanish after the encode picows' ``send`` would also do."""

    __slots__ = ("frames",)

    def __init__(self) -> None:
        self.frames = 0

    def send_text(self, text: str) -> None:
        text.encode()
        self.frames += 1

    def buffered(self) -> int:
        return 0

    def close(self, code: int, reason: str) -> None:
        pass

    def abort(self) -> None:
        pass


async def _settle(condition: Any, what: str) -> None:
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise RuntimeError(f"not reached: {what}")


async def _pair(data_dir: Path) -> tuple[Any, Link, NullTransport]:
    """Two guests through hello and join-queue to one session: (services, A's link, B)."""
    settings = Settings(_env_file=None, data_dir=data_dir, **BENCH_SETTINGS)
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    svc = build_services(settings, SystemClock())
    links: list[Link] = []
    transports: list[NullTransport] = []
    for n in range(2):
        transport = NullTransport()
        link = svc.gateway.open(transport, f"127.0.0.{n + 1}")
        assert link is not None
        token = svc.tokens.issue_guest(f"bench-device-{n}", f"ip{n}")
        link.received(json.dumps({"event": "hello", "data": {"token": token}}))
        links.append(link)
        transports.append(transport)
    await _settle(lambda: all(t.frames >= 1 for t in transports), "welcome")
    for link in links:
        join = {"event": "join-queue", "data": {"mode": "text", "interests": ["bench"]}, "id": 1}
        link.received(json.dumps(join))
    await _settle(
        lambda: all(svc.sessions.current_now(c.id) is not None for c in svc.hub.clients()),
        "matched",
    )
    # Both frame loops parked again: from here every frame takes the direct path.
    await _settle(lambda: all(link._waiter is not None for link in links), "idle loops")
    return svc, links[0], transports[1]


def _instrument(state: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", state, str(os.getpid())], check=True, stdout=subprocess.DEVNULL
    )


def _measure(link: Link, frame: str, frames: int, repeat: int, callgrind: bool) -> float:
    received = link.received
    if callgrind:
        _instrument("on")
        for _ in range(frames):
            received(frame)
        _instrument("off")
        return 0.0
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        for _ in range(frames):
            received(frame)
        best = min(best, time.thread_time() - started)
    return best / frames * 1e6


async def run(
    cases: list[str], frames: int, repeat: int, callgrind: bool = False
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        svc, link, partner = await _pair(Path(tmp))
        before = partner.frames
        out = {c: _measure(link, json.dumps(CASES[c]), frames, repeat, callgrind) for c in cases}
        delivered = partner.frames - before
        expected = frames * (1 if callgrind else repeat) * len(cases)
        if delivered != expected:
            raise RuntimeError(f"partner got {delivered} frames, expected {expected}")
        await svc.db.close()
    return {"us_per_frame": out, "compiled": compiled.status()}


def under_callgrind(case: str, frames: int) -> float:
    """Instructions per frame of ``case``: this module again under valgrind, one pass."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind", "--tool=callgrind", "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable, "-m", "bench.hotpath", "--in-callgrind", case,
                "--frames", str(frames),
            ],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800,
        )  # fmt: skip
        totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
        assert totals is not None
        return int(totals.group(1)) / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--callgrind", action="store_true", help="instructions per frame")
    parser.add_argument("--in-callgrind", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    frames, repeat = min(args.frames, 100_000), min(args.repeat, 500)
    if args.in_callgrind:
        asyncio.run(run([args.in_callgrind], frames, 1, callgrind=True))
        return
    result = asyncio.run(run(list(CASES), frames, repeat))
    if args.callgrind:
        result["instructions_per_frame"] = {c: under_callgrind(c, frames) for c in CASES}
    if args.json:
        print(json.dumps(result))
        return
    for name, us in result["us_per_frame"].items():
        line = f"{name:24s} {us:6.2f} µs per frame (thread CPU, best of {repeat} x {frames})"
        if args.callgrind:
            line += f", {result['instructions_per_frame'][name]:,.0f} instructions"
        print(line)
    status = result["compiled"]
    print(f"hot paths: {status['state']} ({status['reason']}), {len(status['modules'])} modules")


if __name__ == "__main__":
    main()
