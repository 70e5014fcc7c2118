"""Where a relayed message's server CPU goes: the kernel, the runtime, native libraries.

    .venv/bin/python -m bench.cpu_split                 # connect, socketio, pyfloor
    .venv/bin/python -m bench.cpu_split --targets connect pyfloor --no-doc

py-spy sees only Python frames; the question the relay goal raises is how
much of a message's CPU any server could save at all. So each target runs
the ``pingpong`` scenario (1,000 pairs, one message in flight per pair)
while ``perf record`` samples its process for a few seconds from "go", and
the samples are split by the shared object they fall in. Multiplied by the
run's server CPU per message, each share is microseconds per message:

- **kernel**: the loopback TCP path of the server's end (the read, the
  send, waking the client on the other core), epoll;
- **runtime**: the language's interpreter or VM (``libpython``; ``node``
  and its JIT code);
- **native libraries**: compiled extensions and libc (uvloop, picows,
  orjson, pydantic-core, ...).

Targets run one after the other, each on a fresh server pinned to the
server core, so the split compares runs that saw the same machine. It needs
Linux ``perf`` (Debian package ``linux-perf``) and permission to profile
another process (root, or ``kernel.perf_event_paranoid`` <= 1).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.load import (
    EXTRA_TARGETS,
    TARGETS,
    ensure_node_deps,
    node_available,
    run_scenario,
    server,
    stop_process,
)
from bench.run import write_doc

PARAMS = {"pairs": 1000, "duration": 10}
SAMPLE_S = 6.0
SAMPLE_HZ = 2000
GROUPS = ("kernel", "runtime", "native libraries")
BEGIN, END = "<!-- cpusplit:begin -->", "<!-- cpusplit:end -->"


def group_of(dso: str) -> str:
    if dso.startswith("[kernel"):
        return "kernel"
    if dso.startswith("libpython") or dso == "node" or dso.startswith("[JIT]"):
        return "runtime"
    return "native libraries"


def split(perf_data: Path) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """Sample shares per group, and the four largest shared objects, from ``perf report``."""
    out = subprocess.run(
        ["perf", "report", "-i", str(perf_data), "--sort", "dso", "--stdio", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    shares = dict.fromkeys(GROUPS, 0.0)
    dsos: list[tuple[str, float]] = []
    for line in out.splitlines():
        percent, _, dso = line.strip().partition("%")
        try:
            share = float(percent) / 100
        except ValueError:
            continue
        dso = dso.strip()
        shares[group_of(dso)] += share
        name = "[JIT]" if dso.startswith("[JIT]") else dso.split(".cpython-")[0]
        dsos.append((name, share))
    return shares, sorted(dsos, key=lambda d: -d[1])[:4]


async def measure(target: str, tmp: Path) -> dict[str, Any]:
    data = tmp / f"{target}.perf.data"
    with server(target) as srv:
        recorder: list[subprocess.Popen[bytes]] = []

        def on_go() -> None:
            command = ["perf", "record", "-F", str(SAMPLE_HZ), "-p", str(srv.pid), "-o", str(data)]
            recorder.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
            asyncio.get_running_loop().call_later(SAMPLE_S, recorder[0].send_signal, signal.SIGINT)

        try:
            result = await run_scenario(srv, "pingpong", PARAMS, on_go=on_go)
        finally:
            for perf in recorder:
                stop_process(perf, signal.SIGINT, timeout=30)  # perf writes its file on SIGINT
    shares, top = split(data)
    us = float(result["serverCpuUsPerMsg"])
    return {
        "target": target,
        "cpuUsPerMsg": us,
        "msgsPerS": result["msgsPerS"],
        "shares": shares,
        "usPerMsg": {g: us * s for g, s in shares.items()},
        "top": top,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = "| per relayed message | " + " | ".join(r["target"] for r in rows) + " |"
    lines = [head, "|" + " --- |" * (len(rows) + 1)]
    lines.append(
        "| server CPU (µs) | " + " | ".join(f"{r['cpuUsPerMsg']:.1f}" for r in rows) + " |"
    )
    for g in GROUPS:
        cells = [f"{r['usPerMsg'][g]:.1f} ({r['shares'][g]:.0%})" for r in rows]
        lines.append(f"| {g} (µs) | " + " | ".join(cells) + " |")
    user = [r["cpuUsPerMsg"] - r["usPerMsg"]["kernel"] for r in rows]
    lines.append("| user space in all (µs) | " + " | ".join(f"{u:.1f}" for u in user) + " |")
    lines.append(
        "| largest objects | "
        + " | ".join(", ".join(f"{d} {s:.0%}" for d, s in r["top"]) for r in rows)
        + " |"
    )
    return "\n".join(lines)


def budget(rows: list[dict[str, Any]]) -> str:
    """The relay goal in this run's figures: what 1.5x the reference leaves Connect's user space."""
    by = {r["target"]: r for r in rows}
    if "connect" not in by or "socketio" not in by:
        return ""
    goal = by["socketio"]["cpuUsPerMsg"] / 1.5
    kernel = by["connect"]["usPerMsg"]["kernel"]
    user = by["connect"]["cpuUsPerMsg"] - kernel
    text = (
        f"1.5x the reference: {goal:.1f} µs per message in all; Connect's kernel part, "
        f"{kernel:.1f} µs, leaves {goal - kernel:.1f} µs for its user space, which now "
        f"spends {user:.1f} µs"
    )
    if "pyfloor" in by:
        floor = by["pyfloor"]
        text += f" (the Python floor's: {floor['cpuUsPerMsg'] - floor['usPerMsg']['kernel']:.1f})"
    return text + "."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--targets",
        nargs="*",
        default=["connect", "socketio", "pyfloor"],
        choices=TARGETS + EXTRA_TARGETS,
    )
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    if shutil.which("perf") is None:
        raise SystemExit("perf is not installed (Debian: apt-get install -y linux-perf)")
    reason = node_available()
    if reason:
        raise SystemExit(reason)
    ensure_node_deps()
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="connect-perf-") as tmp:
        rows = [asyncio.run(measure(t, Path(tmp))) for t in args.targets]
    text = "\n\n".join(filter(None, [table(rows), budget(rows)]))
    print(text)
    print(json.dumps(rows, indent=1))
    if not args.no_doc:
        write_doc(
            f"Run: `python -m bench.cpu_split` ({started:%Y-%m-%d %H:%M} UTC), `pingpong` with "
            f"{PARAMS['pairs']:,} pairs, `perf record` at {SAMPLE_HZ} Hz for {SAMPLE_S:.0f} s "
            "of each run; shares of samples times the run's server CPU per message.\n\n" + text,
            BEGIN,
            END,
        )


if __name__ == "__main__":
    main()
