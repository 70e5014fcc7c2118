"""Frame moderation's cost and speed: classifier throughput, end-to-end latency, receive cost.

Three measurements (docs/benchmarks.md, "Frame moderation"):

1. **Classifier throughput per core.** The classifier in this process, one
   thread (NudeNet's onnxruntime session is pinned to one thread, as in a pool
   worker), over drawn 320x240 frames (a gradient, shapes, noise: no person).
   frames/s per core = frames / CPU seconds of this process.
2. **End to end, frame sent → report filed.** A real server (subprocess,
   loopback, memory + SQLite) with the test classifier (``test-colour``) and
   its real process pool; per run two fresh visitors are matched, one POSTs a
   red frame, and we time (a) the partner's ``video-hidden`` arriving and (b)
   the automatic report's ``createdAt`` (stamped by the server just before its
   insert; the report is then read back from the admin API to confirm it).
3. **Receive cost.** The same server's main process CPU (utime + stime from
   /proc; the pool's workers are other processes) while ``--visitors`` video
   visitors POST ``--frames`` grey frames: CPU seconds per frame received
   (authorisation, session lookup, the JPEG decode check, the queue). Scaled to
   1,000 concurrent video visitors at the default policy: one frame per
   ``CONNECT_FRAMECHECK_MEAN_INTERVAL_MS`` (30 s) each plus the first frame of
   every new session (a session every ``--session-s`` seconds per visitor).

Bounded: every count is capped and every wait has a timeout.

    .venv/bin/python -m bench.framecheck                       # all three
    .venv/bin/python -m bench.framecheck --frames 200 --runs 50 --classifier nudenet
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import secrets
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from tests.support import frames
from tests.support.client import Peer, guest_token
from tests.support.server import Server, start_server
from tests.support.staff import StaffClient, new_admin

from connect.framecheck import classifier as classifiers
from connect.settings import Settings

DEFAULTS = Settings()
SERVER_SETTINGS = {
    "CONNECT_FRAMECHECK_ENABLED": "true",
    "CONNECT_FRAMECHECK_CLASSIFIER": "test-colour",
    "CONNECT_FRAMECHECK_QUEUE": "10000",
    "CONNECT_RATE_FRAMES": "1000000/minute",
    "CONNECT_RATE_TOKEN": "100000000/minute",
    "CONNECT_RATE_HELLO": "100000000/minute",
    "CONNECT_RATE_JOIN": "100000000/minute",
    "CONNECT_TOKEN_CHURN_DEVICES": "100000000",
    "CONNECT_LOG_LEVEL": "warning",
}


def noise(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    rng = random.Random(seed)
    img = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- 1. classifier throughput --------------------------------------------------------


def throughput(name: str, count: int) -> dict[str, Any]:
    model = classifiers.load(name)
    inputs = [frames.gradient(), frames.shapes(), noise(1), noise(2)]
    model.classify(inputs[0])  # warm up (first-run allocations)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(count):
        model.classify(inputs[i % len(inputs)])
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "classifier": name,
        "frames": count,
        "cpuS": round(cpu, 3),
        "framesPerCoreS": round(count / cpu, 2) if cpu > 0 else None,
        "msPerFrame": round(1000 * cpu / count, 2),
        "wallFramesPerS": round(count / wall, 2),
    }


# -- 2. end to end -------------------------------------------------------------------


async def _pair(srv: Server) -> tuple[Peer, Peer, dict[str, Any]]:
    a = await Peer.connect(srv.ws, await guest_token(srv.http))
    b = await Peer.connect(srv.ws, await guest_token(srv.http))
    tag = [secrets.token_hex(6)]
    await a.request("join-queue", {"mode": "video", "interests": tag})
    await b.request("join-queue", {"mode": "video", "interests": tag})
    matched = await a.event("matched")
    await b.event("matched")
    return a, b, matched


async def _report_created(admin: StaffClient, session_id: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=admin.server.http, headers=admin.headers) as http:
        while time.monotonic() < deadline:
            r = await http.get("/api/admin/reports", params={"status": "pending", "limit": 200})
            for report in r.json()["reports"]:
                if report["sessionId"] == session_id and report["source"] == "auto":
                    return datetime.fromisoformat(report["createdAt"]).timestamp()
            await asyncio.sleep(0.02)  # polling the queue, bounded by the deadline
    raise TimeoutError("no automatic report")


async def end_to_end(srv: Server, runs: int) -> dict[str, Any]:
    admin, _, _ = await new_admin(srv)
    hidden_ms: list[float] = []
    report_ms: list[float] = []
    async with httpx.AsyncClient(base_url=srv.http) as http:
        for run in range(runs + 1):  # run 0 warms up: the pool spawns its workers on first use
            a, b, matched = await _pair(srv)
            sid = matched["sessionId"]
            sent_wall, sent = time.time(), time.perf_counter()
            r = await http.post(
                f"/api/strangers/sessions/{sid}/frames",
                content=frames.RED,
                headers={"Authorization": f"Bearer {a.token}", "Content-Type": "image/jpeg"},
            )
            assert r.status_code == 202, r.text
            await b.event("video-hidden", timeout=30)
            hidden = (time.perf_counter() - sent) * 1000
            created = await _report_created(admin, sid, 30)
            if run > 0:
                hidden_ms.append(hidden)
                report_ms.append((created - sent_wall) * 1000)
            await a.close()
            await b.close()
    return {
        "runs": runs,
        "hiddenP50Ms": round(statistics.median(hidden_ms), 1),
        "hiddenP99Ms": round(percentile(hidden_ms, 0.99), 1),
        "reportP50Ms": round(statistics.median(report_ms), 1),
        "reportP99Ms": round(percentile(report_ms, 0.99), 1),
    }


# -- 3. receive cost -----------------------------------------------------------------


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def receive_cost(srv: Server, visitors: int, count: int, session_s: float) -> dict[str, Any]:
    pairs = [await _pair(srv) for _ in range(max(1, visitors // 2))]
    senders = [(a.token, m["sessionId"]) for a, _, m in pairs] + [
        (b.token, m["sessionId"]) for _, b, m in pairs
    ]
    body = frames.solid((120, 130, 140))
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=srv.http, limits=limits) as http:

        async def send(i: int) -> int:
            token, sid = senders[i % len(senders)]
            r = await http.post(
                f"/api/strangers/sessions/{sid}/frames",
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"},
            )
            return r.status_code

        await asyncio.gather(*(send(i) for i in range(min(50, count))))  # warm up
        cpu0, wall0 = _cpu_s(srv.proc.pid), time.perf_counter()
        statuses: list[int] = []
        for start in range(0, count, 32):
            statuses += await asyncio.gather(
                *(send(i) for i in range(start, min(count, start + 32)))
            )
        cpu, wall = _cpu_s(srv.proc.pid) - cpu0, time.perf_counter() - wall0
    for a, b, _ in pairs:
        await a.close()
        await b.close()
    accepted = sum(1 for s in statuses if s == 202)
    per_frame = cpu / max(1, accepted)
    mean_s = DEFAULTS.framecheck_mean_interval_ms / 1000
    rate = 1000 / mean_s + 1000 / session_s  # frames/s from 1,000 video visitors
    return {
        "frames": count,
        "accepted": accepted,
        "serverCpuS": round(cpu, 3),
        "cpuMsPerFrame": round(per_frame * 1000, 3),
        "framesPerS": round(count / wall, 1),
        "framesPerSPer1000Visitors": round(rate, 1),
        "serverCoresPer1000Visitors": round(rate * per_frame, 4),
        "sessionS": session_s,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if classifiers.installed(args.classifier):
        out["throughput"] = throughput(args.classifier, args.frames)
    with tempfile.TemporaryDirectory(prefix="connect-framecheck-") as tmp:
        srv = start_server(Path(tmp), SERVER_SETTINGS)
        try:
            out["endToEnd"] = await end_to_end(srv, args.runs)
            out["receive"] = await receive_cost(srv, args.visitors, args.receive, args.session_s)
        finally:
            srv.stop()
    if "throughput" in out:
        per_core = out["throughput"]["framesPerCoreS"]
        rate = out["receive"]["framesPerSPer1000Visitors"]
        out["workerCoresPer1000Visitors"] = round(rate / per_core, 2) if per_core else None
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--classifier", default="nudenet", choices=classifiers.CLASSIFIERS)
    parser.add_argument("--frames", type=int, default=100, help="classifier throughput frames")
    parser.add_argument("--runs", type=int, default=30, help="end-to-end runs")
    parser.add_argument("--visitors", type=int, default=40, help="visitors sending frames")
    parser.add_argument("--receive", type=int, default=2000, help="frames for the receive cost")
    parser.add_argument("--session-s", type=float, default=60.0, help="mean session length")
    a = parser.parse_args()
    a.frames = min(max(a.frames, 1), 5000)
    a.runs = min(max(a.runs, 1), 500)
    a.visitors = min(max(a.visitors, 2), 1000)
    a.receive = min(max(a.receive, 1), 50_000)
    print(json.dumps(asyncio.run(main(a)), indent=2))
