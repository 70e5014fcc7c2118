"""Load generator: one scenario against one server, measured from outside.

The orchestrator (this module, asyncio) starts the server under test pinned to
core 0, spawns one or more Node load-client processes (``bench/reference/
client.mjs``) pinned to core 1, releases them together, and reads the server's
RSS (``/proc/<pid>/status`` VmRSS) and CPU time (``/proc/<pid>/stat`` utime +
stime) at the phase boundaries the clients report.

Why the traffic comes from Node and not from a Python ``websockets`` client: with
one core for the client, a Python client saturates before these servers do
(docs/testing.md, "Measured facts for load and speed"), and the comparison needs one client
for all three targets. So every target is driven by the same Node process: the
``ws`` library for Connect and the floor (identical frames), ``socket.io-client``
for the Socket.IO reference. ``--procs K`` splits a scenario over K client
processes (pairs never span two processes, so one-way latency is measured on
one clock).

Targets: ``connect`` (``python -m connect serve``, via tests/support/server.py),
``socketio`` (bench/reference/socketio_server.mjs), ``floor``
(bench/reference/floor_server.mjs). Scenarios: connect, burst, relay-rate,
pingpong, churn. Everything is loopback-only and bounded in count and time.

    .venv/bin/python -m bench.load --target connect --scenario pingpong --pairs 200 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REFERENCE_DIR = BENCH_DIR / "reference"
CLIENT_JS = REFERENCE_DIR / "client.mjs"
TARGETS = ("connect", "socketio", "floor")
# Opt-in: the Node floor's relay in Python (picows, uvloop, orjson), to split a
# Connect figure into the platform's floor and Connect's own work.
EXTRA_TARGETS = ("pyfloor",)
SCENARIOS = (
    "connect",
    "burst",
    "relay-rate",
    "pingpong",
    "pingpong-typing",
    "pingpong-long",
    "pingpong-signal",
    "churn",
)
PINGPONGS = ("pingpong", "pingpong-typing", "pingpong-long", "pingpong-signal")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Connect as the tests run it, with every per-subject limit out of the way: the
# bench measures the relay and the matcher, not the abuse limits.
BENCH_SETTINGS = {
    "CONNECT_RATE_TOKEN": "100000000/minute",
    "CONNECT_RATE_HELLO": "100000000/minute",
    "CONNECT_RATE_JOIN": "100000000/minute",
    "CONNECT_RATE_CHAT": "1000000/second",
    "CONNECT_EVENT_RATE_PER_S": "1000000",
    "CONNECT_EVENT_BURST": "1000000",
    "CONNECT_TOKEN_CHURN_DEVICES": "100000000",
    "CONNECT_NEXT_STREAK_COUNT": "100000000",
    "CONNECT_LOG_LEVEL": "warning",
}


class BenchError(RuntimeError):
    pass


# --- machine ----------------------------------------------------------------------


def cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def pinning() -> tuple[list[str], list[str]]:
    """taskset prefixes for (server, client): core 0 and core 1 when there are two."""
    avail = cores()
    if len(avail) < 2 or shutil.which("taskset") is None:
        return [], []
    return ["taskset", "-c", str(avail[0])], ["taskset", "-c", str(avail[1])]


def node_available() -> str | None:
    """Why the Node side cannot run, or None when it can."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js >= 20 and npm are needed (apt-get install -y nodejs npm)"
    return None


def ensure_node_deps() -> None:
    marker = REFERENCE_DIR / "node_modules" / ".package-lock.json"
    lock = REFERENCE_DIR / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=REFERENCE_DIR,
        check=True,
        timeout=300,
    )


def machine_info() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
    node = "missing"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        node = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    versions = {}
    pkg_root = REFERENCE_DIR / "node_modules"
    for pkg in ("socket.io", "socket.io-client", "ws"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            versions[pkg] = json.loads((pkg_root / pkg / "package.json").read_text())["version"]
    load1 = None
    with contextlib.suppress(OSError):
        load1 = round(os.getloadavg()[0], 2)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "coresUsable": len(cores()),
        "memGiB": round(mem_kb / 1024 / 1024, 1),
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "node": node,
        "npm": versions,
        "pinned": bool(pinning()[0]),
        "loadAvg1mAtStart": load1,
        "ulimitNofile": _nofile(),
    }


def _nofile() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- /proc ------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for {pid}")


def cpu_s(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# --- servers ----------------------------------------------------------------------


@dataclass
class RunningServer:
    name: str
    pid: int
    ws_url: str
    http_url: str
    stop: Callable[[], None]
    log: Callable[[], str] = field(default=lambda: "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)  # polling a port, bounded by the deadline
    raise BenchError("server did not listen in time")


def stop_process(
    proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10
) -> None:
    """Ask ``proc`` to stop with ``sig``; kill it if it has not exited within ``timeout``."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def server(name: str, overrides: dict[str, str] | None = None) -> Iterator[RunningServer]:
    """Start one target on a free loopback port, pinned to the server core."""
    server_pin, _ = pinning()
    if name == "connect":
        from tests.support.server import start_server

        with tempfile.TemporaryDirectory(prefix="connect-bench-") as tmp:
            srv = start_server(Path(tmp), {**BENCH_SETTINGS, **(overrides or {})})
            try:
                if server_pin:
                    # -a: every thread (aiosqlite's worker is started before we get here)
                    subprocess.run(
                        ["taskset", "-a", "-pc", server_pin[-1], str(srv.proc.pid)],
                        check=True,
                        capture_output=True,
                        timeout=10,
                    )
                yield RunningServer(name, srv.proc.pid, srv.ws, srv.http, srv.stop, srv.log)
            finally:
                srv.stop()
        return
    command = {
        "socketio": ["node", str(REFERENCE_DIR / "socketio_server.mjs")],
        "floor": ["node", str(REFERENCE_DIR / "floor_server.mjs")],
        "pyfloor": [sys.executable, str(REFERENCE_DIR / "picows_floor.py")],
    }[name]
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [*server_pin, *command],
            cwd=REFERENCE_DIR,
            env={**os.environ, "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_port(port, proc)
            ws = f"ws://127.0.0.1:{port}" + ("" if name == "socketio" else "/ws")

            def read_log() -> str:
                log.seek(0)
                return log.read().decode(errors="replace")

            yield RunningServer(
                name, proc.pid, ws, f"http://127.0.0.1:{port}", lambda: stop_process(proc), read_log
            )
        finally:
            stop_process(proc)


# --- clients ----------------------------------------------------------------------


class Client:
    """One Node load-client process and its JSON-lines conversation."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.messages: list[dict[str, Any]] = []

    @classmethod
    async def start(cls, cfg: dict[str, Any], *, pinned: bool = True) -> Client:
        """The Node load client on the client core (``pinned``), or wherever the OS puts it."""
        client_pin = pinning()[1] if pinned else []
        proc = await asyncio.create_subprocess_exec(
            *client_pin,
            "node",
            str(CLIENT_JS),
            json.dumps(cfg),
            cwd=REFERENCE_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        return cls(proc)

    async def expect(self, kind: str, timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"client: no {kind!r} within {timeout_s:.0f} s")
            line = await asyncio.wait_for(self.proc.stdout.readline(), left)
            if not line:
                err = b""
                if self.proc.stderr is not None:
                    err = await self.proc.stderr.read()
                raise BenchError(f"client exited before {kind!r}: {err.decode()[-2000:]}")
            msg: dict[str, Any] = json.loads(line)
            self.messages.append(msg)
            if msg.get("type") == "fatal":
                raise BenchError(f"client failed: {msg.get('error')}")
            if msg.get("type") == kind:
                return msg

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")

    async def finish(self, timeout_s: float = 20.0) -> None:
        try:
            await asyncio.wait_for(self.proc.wait(), timeout_s)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


async def run_scenario(
    srv: RunningServer,
    scenario: str,
    params: dict[str, Any],
    procs: int = 1,
    on_go: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """Run one scenario against a running server; returns merged client results + /proc."""
    procs = max(1, min(procs, 16))
    target = srv.name
    duration = float(params.get("duration", 5))
    setup_timeout = float(params.get("setupTimeoutS", 120))
    base = {
        "target": target,
        "url": srv.ws_url,
        "http": srv.http_url,
        "scenario": scenario,
        "duration": duration,
        "setupTimeoutS": setup_timeout,
        "hardLimitS": setup_timeout + duration * 3 + 120,
        "tagPrefix": f"{scenario[:2]}{int(time.time() * 1000) % 100000}",
    }
    size_key = "pairs" if scenario == "relay-rate" or scenario in PINGPONGS else "n"
    size = int(params[size_key])
    shares = [s for s in _split(size, procs) if s > 0]
    if scenario == "burst":
        shares = [s - s % 2 for s in shares]
    clients: list[Client] = []
    cfgs = []
    for share in shares:
        cfg = {**base, **params, size_key: share}
        if scenario == "relay-rate":
            cfg["rate"] = float(params["rate"]) * share / size
        cfgs.append(cfg)
    pid = srv.pid
    report: dict[str, Any] = {"target": target, "scenario": scenario, "procs": len(shares)}
    try:
        clients = [await Client.start(cfg) for cfg in cfgs]
        await asyncio.gather(*(c.expect("ready", setup_timeout) for c in clients))
        await asyncio.sleep(0.5)  # let the server settle after set-up
        rss_before = rss_kb(pid)
        cpu_before = cpu_s(pid)
        client_cpu_before = [cpu_s(c.proc.pid) for c in clients]
        t_go = time.perf_counter()
        for c in clients:
            c.send("go")
        if on_go is not None:
            on_go()
        samples: list[tuple[float, int]] = [(0.0, rss_before)]
        if scenario == "relay-rate" or scenario in PINGPONGS:
            ends = await asyncio.gather(
                *(c.expect("window-end", duration + setup_timeout) for c in clients)
            )
            cpu_after = cpu_s(pid)
            wall = time.perf_counter() - t_go
            report["serverCpuS"] = cpu_after - cpu_before
            report["serverCpuUtil"] = (cpu_after - cpu_before) / wall
            pairs = zip(clients, client_cpu_before, strict=True)
            report["clientCpuUtil"] = max((cpu_s(c.proc.pid) - b) / wall for c, b in pairs)
            del ends
        if scenario == "churn":
            waiting = [asyncio.ensure_future(c.expect("result", duration + 60)) for c in clients]
            while not all(w.done() for w in waiting):
                await asyncio.wait(waiting, timeout=0.5)
                samples.append((round(time.perf_counter() - t_go, 2), rss_kb(pid)))
            results = [w.result() for w in waiting]
            wall = time.perf_counter() - t_go
            report["serverCpuS"] = cpu_s(pid) - cpu_before
            report["serverCpuUtil"] = report["serverCpuS"] / wall
            pairs = zip(clients, client_cpu_before, strict=True)
            report["clientCpuUtil"] = max((cpu_s(c.proc.pid) - b) / wall for c, b in pairs)
        else:
            results = await asyncio.gather(
                *(c.expect("result", duration + setup_timeout) for c in clients)
            )
        if scenario in ("connect", "burst"):
            report["serverCpuS"] = cpu_s(pid) - cpu_before
        if scenario == "connect":
            await asyncio.sleep(1.0)  # let the server finish each hello's bookkeeping
            report["rssAfterKb"] = rss_kb(pid)
            held = sum(r["connected"] for r in results)
            report["rssPerConnKb"] = (report["rssAfterKb"] - rss_before) / max(held, 1)
            for c in clients:
                c.send("close")
        if scenario == "churn":
            await asyncio.sleep(1.0)
            samples.append((round(time.perf_counter() - t_go, 2), rss_kb(pid)))
            report["rssSamples"] = samples
            report["rssPeakKb"] = max(s[1] for s in samples)
            report["rssEndKb"] = samples[-1][1]
        report["rssBeforeKb"] = rss_before
        for c in clients:
            await c.finish()
    finally:
        for c in clients:
            if c.proc.returncode is None:
                c.proc.kill()
                await c.proc.wait()
    report.update(merge(scenario, results))
    if scenario.startswith("pingpong") and report.get("messages"):
        report["serverCpuUsPerMsg"] = report["serverCpuS"] / report["messages"] * 1e6
    if scenario == "connect" and report.get("connected"):
        report["serverCpuUsPerConn"] = report["serverCpuS"] / report["connected"] * 1e6
    if scenario == "churn" and report.get("matches"):
        # Capacity, not just rate: with think times between steps, matches/s is also
        # bounded by the visitors' own pace (docs/benchmarks.md, "Churn").
        report["serverCpuUsPerMatch"] = report["serverCpuS"] / report["matches"] * 1e6
    if scenario == "relay-rate" and report.get("received"):
        report["serverCpuUsPerMsg"] = report["serverCpuS"] / report["received"] * 1e6
    return report


def merge(scenario: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum counters over client processes; latency/percentiles: worst shard (conservative)."""
    merged: dict[str, Any] = {}
    codes: dict[str, int] = {}
    for r in results:
        for k, v in r.items():
            if k in ("type",):
                continue
            if k == "errorCodes":
                for code, n in v.items():
                    codes[code] = codes.get(code, 0) + n
            elif k == "latencyMs":
                prev = merged.get(k)
                merged[k] = v if prev is None else {q: max(prev[q], v[q]) for q in v}
            elif isinstance(v, bool):
                merged[k] = merged.get(k, False) or v
            elif isinstance(v, int | float) and k not in (
                "rate",
                "durationS",
                "window",
                "allMatchedMs",
                "connectAllMs",
                "matchLatencyP50Ms",
                "matchLatencyP99Ms",
            ):
                merged[k] = merged.get(k, 0) + v
            elif isinstance(v, int | float):
                merged[k] = max(merged.get(k, 0), v)
            else:
                merged[k] = v
    merged["errorCodes"] = codes
    if scenario == "relay-rate":
        merged["rate"] = sum(r["rate"] for r in results)
    if scenario.startswith("pingpong"):
        merged["msgsPerS"] = merged["messages"] / max(r["durationS"] for r in results)
    if scenario == "burst":
        merged["pairsPerS"] = merged["matched"] / 2 / merged["allMatchedMs"] * 1000
    if scenario == "connect":
        merged["connectsPerS"] = merged["connected"] / merged["connectAllMs"] * 1000
    return merged


async def run_one(
    target: str, scenario: str, params: dict[str, Any], procs: int = 1
) -> dict[str, Any]:
    with server(target) as srv:
        return await run_scenario(srv, scenario, params, procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=TARGETS + EXTRA_TARGETS, default="connect")
    parser.add_argument("--scenario", choices=SCENARIOS, required=True)
    parser.add_argument("--n", type=int, default=200, help="connections / visitors")
    parser.add_argument("--pairs", type=int, default=100, help="pairs (relay-rate, pingpong)")
    parser.add_argument("--rate", type=float, default=2000, help="relay-rate: total msgs/s")
    parser.add_argument("--window", type=int, default=1, help="pingpong: messages in flight/pair")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds (bounded to 120)")
    parser.add_argument("--procs", type=int, default=1, help="client processes")
    args = parser.parse_args()
    reason = node_available()
    if reason:
        raise SystemExit(reason)
    ensure_node_deps()
    params = {
        "n": min(args.n, 9000),
        "pairs": min(args.pairs, 4500),
        "rate": min(args.rate, 200000),
        "window": min(args.window, 64),
        "duration": min(args.duration, 120.0),
    }
    report = asyncio.run(run_one(args.target, args.scenario, params, args.procs))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
