"""Scale-out figures: one-way chat relay latency across nodes against one node, on a real
cluster (three Connect nodes, one Redis, PostgreSQL, HAProxy; loopback), driven by the
same Node load client and scenario as the single-node table (``client.mjs relay-rate``).

    .venv/bin/python -m bench.cluster --pairs 200 --rate 2000 --duration 10 --reps 3

Each rep runs two configurations back to back against the same running cluster:

- ``three``: pair p's first visitor on node p % 3, its partner on node (p + 1) % 3, so
  every chat line crosses nodes (sender node → Redis ``ROUTE`` script → ``PUBLISH`` →
  the holder's subscription → its socket).
- ``one``: both visitors of every pair on node 0 (the same Redis backend attached, the
  other two nodes idle): the relay never leaves the node.

The client connects to each node's own port, not through HAProxy: HAProxy balances by
``leastconn``, which cannot be told to put a pair's two visitors on different nodes, and
its extra hop is not in the single-node figure this one is compared with.

As in ``bench.load``, the Node client is pinned to the second core and the servers
(nodes and Redis) to the first (``--pin none`` leaves the scheduler free). Per run it
records the load average at the start and end (the machine is shared), each node's and
Redis' CPU over the measured window, and Redis' ``INFO commandstats`` difference (calls
and time per call of the routing script and ``PUBLISH``). Every loop is bounded in count
and time; every process is stopped by its PID.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.cluster import Cluster, start_cluster

from bench.load import (
    BENCH_SETTINGS,
    BenchError,
    Client,
    cores,
    cpu_s,
    ensure_node_deps,
    node_available,
)

CONFIGS = ("one", "three")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def redis_command(url: str, *args: str) -> str:
    """One command over a plain socket (RESP), so the bench needs no client of its own."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    parts = [f"*{len(args)}\r\n".encode()]
    for a in args:
        parts.append(f"${len(a.encode())}\r\n{a}\r\n".encode())
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"".join(parts))
        data = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            data += s.recv(1 << 16)
            if data.startswith(b"$"):
                size = int(data[1 : data.index(b"\r\n")])
                if len(data) >= data.index(b"\r\n") + 2 + size:
                    break
            elif data.endswith(b"\r\n"):
                break
    text = data.decode()
    return text.split("\r\n", 1)[1] if text.startswith("$") else text


def redis_info(url: str, section: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in redis_command(url, "INFO", section).splitlines():
        if ":" in line and not line.startswith("#"):
            key, value = line.split(":", 1)
            out[key] = value
    return out


def commandstats(url: str) -> dict[str, tuple[int, int]]:
    """command -> (calls, usec) from ``INFO commandstats``."""
    stats: dict[str, tuple[int, int]] = {}
    for key, value in redis_info(url, "commandstats").items():
        fields = dict(kv.split("=", 1) for kv in value.split(","))
        stats[key.removeprefix("cmdstat_")] = (int(fields["calls"]), int(fields["usec"]))
    return stats


def stats_delta(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> dict[str, dict[str, float]]:
    delta: dict[str, dict[str, float]] = {}
    for cmd, (calls, usec) in after.items():
        c0, u0 = before.get(cmd, (0, 0))
        if calls - c0 > 0:
            delta[cmd] = {"calls": calls - c0, "usecPerCall": round((usec - u0) / (calls - c0), 2)}
    return delta


def pin(pids: list[int], core: int) -> None:
    for pid in pids:
        subprocess.run(
            ["taskset", "-a", "-pc", str(core), str(pid)],
            check=True,
            capture_output=True,
            timeout=10,
        )


async def relay_rate(
    cluster: Cluster,
    redis_pid: int,
    config: str,
    params: dict[str, Any],
    client_pin: bool,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One ``relay-rate`` run of the Node client against ``config`` ("one" or "three")."""
    nodes = cluster.nodes if config == "three" else cluster.nodes[:1]
    endpoints = [{"url": n.ws, "http": n.http} for n in nodes]
    duration = float(params["duration"])
    setup_timeout = 120.0
    cfg = {
        "target": "connect",
        "url": endpoints[0]["url"],
        "http": endpoints[0]["http"],
        "nodes": endpoints,
        "scenario": "relay-rate",
        "pairs": int(params["pairs"]),
        "rate": float(params["rate"]),
        "duration": duration,
        "setupTimeoutS": setup_timeout,
        "hardLimitS": setup_timeout + duration * 3 + 120,
        "tagPrefix": f"{config[:2]}{int(time.time() * 1000) % 100000}",
    }
    pids = {f"node{i}": n.proc.pid for i, n in enumerate(cluster.nodes)} | {"redis": redis_pid}
    report: dict[str, Any] = {"config": config, "nodes": len(nodes), **params}
    client = await Client.start(cfg, pinned=client_pin)
    try:
        await client.expect("ready", setup_timeout)
        await asyncio.sleep(0.5)  # let the servers settle after set-up
        report["loadAvgStart"] = load_average()
        cpu_before = {name: cpu_s(pid) for name, pid in pids.items()}
        stats_before = commandstats(cluster.redis_url)
        spy = await _py_spy(cluster.nodes[0].proc.pid, duration, profile) if profile else None
        t_go = time.perf_counter()
        client.send("go")
        await client.expect("window-end", duration + setup_timeout)
        wall = time.perf_counter() - t_go
        if spy is not None:
            await asyncio.wait_for(spy.wait(), 30)
        cpu = {name: cpu_s(pid) - cpu_before[name] for name, pid in pids.items()}
        report["redis"] = stats_delta(stats_before, commandstats(cluster.redis_url))
        result = await client.expect("result", duration + setup_timeout)
        report["loadAvgEnd"] = load_average()
        await client.finish()
    finally:
        if client.proc.returncode is None:
            client.proc.kill()
            await client.proc.wait()
    report["cpuUtil"] = {name: round(v / wall, 3) for name, v in cpu.items()}
    received = max(int(result["received"]), 1)
    report["cpuUsPerMsg"] = {name: round(v / received * 1e6, 1) for name, v in cpu.items()}
    for key in ("sent", "received", "lost", "bad", "errors", "errorCodes", "achievedRate"):
        report[key] = result[key]
    report.update({k: v for k, v in result["latencyMs"].items()})
    return report


async def _py_spy(pid: int, duration: float, out: Path) -> asyncio.subprocess.Process:
    """py-spy on node 0 for the measured window (collapsed stacks): in "one" it does all
    the work, in "three" it is one of three alike."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, int(duration))),
        "--rate",
        "500",
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def measure(
    cluster: Cluster,
    redis_pid: int,
    params: dict[str, Any],
    reps: int,
    client_pin: bool,
    profile: Path | None = None,
) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for rep in range(reps):
        # alternate which configuration goes first, so drift in the machine's load
        # does not always favour the same one
        order = CONFIGS if rep % 2 == 0 else CONFIGS[::-1]
        for config in order:
            spy = profile / f"node0-{config}-rep{rep + 1}.txt" if profile else None
            run = await relay_rate(cluster, redis_pid, config, params, client_pin, spy)
            run["rep"] = rep + 1
            runs.append(run)
            print(json.dumps(_line(run)), flush=True)
    medians = {}
    for config in CONFIGS:
        mine = [r for r in runs if r["config"] == config]
        medians[config] = {
            q: statistics.median(r[q] for r in mine) for q in ("p50", "p99", "p999", "max")
        }
        medians[config]["lost"] = sum(r["lost"] for r in mine)
    return {"runs": runs, "medians": medians}


def _line(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("config", "rep", "p50", "p99", "p999", "max", "sent", "lost", "errors", "errorCodes")
    line = {k: run[k] for k in keys}
    line["load"] = [run["loadAvgStart"][0], run["loadAvgEnd"][0]]
    line["cpuUtil"] = run["cpuUtil"]
    evalsha = run["redis"].get("evalsha", {})
    line["evalsha"] = evalsha
    return line


def run(
    params: dict[str, Any],
    reps: int,
    pin_mode: str,
    out: Path | None = None,
    profile: Path | None = None,
) -> dict[str, Any]:
    reason = node_available()
    if reason:
        raise BenchError(reason)
    ensure_node_deps()
    avail = cores()
    split = pin_mode == "split" and len(avail) >= 2
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="connect-cluster-bench-"))
        # interests never widen: a pair is the two visitors the client tagged alike, however
        # long a loaded machine takes to queue them (else first visitors pair up together)
        settings = {**BENCH_SETTINGS, "CONNECT_MATCH_INTEREST_WIDEN_S": "3600"}
        cluster = start_cluster(work, stack, settings=settings)
        redis_pid = int(redis_info(cluster.redis_url, "server")["process_id"])
        if split:
            pin([n.proc.pid for n in cluster.nodes] + [redis_pid], avail[0])
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        uptime = subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout
        result = asyncio.run(measure(cluster, redis_pid, params, reps, split, profile))
        for node in cluster.nodes:
            if "Traceback" in node.log():
                result["tracebacks"] = True
    result.update(
        {
            "started": started,
            "uptimeAtStart": uptime.strip(),
            "pin": "servers core 0, client core 1" if split else "none",
            "reps": reps,
            "params": params,
        }
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--rate", type=float, default=2000, help="total msgs/s")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds (bounded to 60)")
    parser.add_argument("--reps", type=int, default=3, help="bounded to 9")
    parser.add_argument("--pin", choices=("split", "none"), default="split")
    parser.add_argument("--out", type=Path, default=None, help="write the full report (JSON)")
    parser.add_argument(
        "--profile", type=Path, default=None, help="directory: py-spy on node 0 in each run"
    )
    args = parser.parse_args()
    params = {
        "pairs": min(args.pairs, 3000),
        "rate": min(args.rate, 20000),
        "duration": min(args.duration, 60.0),
    }
    result = run(params, min(max(args.reps, 1), 9), args.pin, args.out, args.profile)
    print(result["uptimeAtStart"])
    for config, m in result["medians"].items():
        print(
            f"{config}: p50 {m['p50']:.2f} ms, p99 {m['p99']:.2f} ms, "
            f"p99.9 {m['p999']:.2f} ms, max {m['max']:.2f} ms, lost {m['lost']}"
        )


if __name__ == "__main__":
    main()
