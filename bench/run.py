"""Every scenario against Connect, the Socket.IO reference and the ws floor, back to back.

    .venv/bin/python -m bench.run --quick          # ~2-3 minutes
    .venv/bin/python -m bench.run --full           # ~10-15 minutes on 2 cores
    .venv/bin/python -m bench.run --quick --only pingpong --reps 3
    .venv/bin/python -m bench.run --profile        # py-spy on Connect under pingpong
    .venv/bin/python -m bench.run --soak           # 10-minute churn soak, 5,000 visitors

For each scenario and repetition the three targets run one after the other (a
fresh server each), so a ratio compares runs that saw the same machine load.
Figures are medians over repetitions. Prints a table, writes
``bench/results/latest.json`` and rewrites the table between the
``<!-- bench:begin -->`` / ``<!-- bench:end -->`` markers of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.load import (
    BENCH_DIR,
    SCENARIOS,
    TARGETS,
    ensure_node_deps,
    machine_info,
    node_available,
    run_scenario,
    server,
)

RESULTS_DIR = BENCH_DIR / "results"
DOC = BENCH_DIR.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SOAK_BEGIN, SOAK_END = "<!-- soak:begin -->", "<!-- soak:end -->"
SOAK_DWELL_MS = [5000, 30000]
SOAK_RAMP_MS = 30_000
# The soak looks for leaks: growth beyond what the retention windows hold by
# design. Ended-session records (kept 1 h for reports) and the recent-pair
# memory (10 min) fill for their whole window, so they are shortened to the
# minimum (60 s) here to reach their steady state inside the warm-up.
SOAK_RETENTION_S = 60
SOAK_SETTINGS = {
    "CONNECT_SESSION_RECORD_TTL_S": str(SOAK_RETENTION_S),
    "CONNECT_MATCH_RECENT_PAIR_S": str(SOAK_RETENTION_S),
}

PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {
        "connect": {"n": 20},
        "burst": {"n": 20, "duration": 10},
        "relay-rate": {"pairs": 5, "rate": 100, "duration": 1},
        "pingpong": {"pairs": 5, "duration": 1},
        "pingpong-typing": {"pairs": 5, "duration": 1},
        "pingpong-long": {"pairs": 5, "duration": 1},
        "pingpong-signal": {"pairs": 5, "duration": 1},
        "churn": {"n": 20, "duration": 2},
    },
    "quick": {
        "connect": {"n": 1000},
        "burst": {"n": 1000, "duration": 60},
        "relay-rate": {"pairs": 200, "rate": 2000, "duration": 5},
        "pingpong": {"pairs": 200, "duration": 5},
        "pingpong-typing": {"pairs": 200, "duration": 5},
        "pingpong-long": {"pairs": 200, "duration": 5},
        "pingpong-signal": {"pairs": 200, "duration": 5},
        "churn": {"n": 200, "duration": 8},
    },
    "full": {
        "connect": {"n": 5000},
        "burst": {"n": 4000, "duration": 90},
        "relay-rate": {"pairs": 1000, "rate": 2000, "duration": 10},
        "pingpong": {"pairs": 1000, "duration": 10},
        "pingpong-typing": {"pairs": 1000, "duration": 10},
        "pingpong-long": {"pairs": 1000, "duration": 10},
        "pingpong-signal": {"pairs": 1000, "duration": 10},
        "churn": {"n": 500, "duration": 20},
    },
}

# Codes a randomly churning client provokes by itself (it sends `next` while its
# partner's `next` is in flight, and so on): counted apart from real errors.
RACE_CODES = {"already_in_session", "already_queued", "not_in_session", "not_queued"}


def split_errors(r: dict[str, Any]) -> tuple[int, int]:
    codes: dict[str, int] = r.get("errorCodes", {})
    races = sum(n for c, n in codes.items() if c in RACE_CODES)
    return int(r.get("errors", 0)) - races, races


# Metrics per scenario: (key, label, unit, better: "higher"|"lower", extractor)
def metrics(scenario: str) -> list[tuple[str, str, str, str]]:
    return {
        "connect": [
            ("connectsPerS", "connections opened + hello/s", "/s", "higher"),
            ("rssPerConnKb", "server RSS per idle connection", "KB", "lower"),
            ("serverCpuUsPerConn", "server CPU per connection + hello", "µs", "lower"),
        ],
        "burst": [
            ("pairsPerS", "burst pairing", "pairs/s", "higher"),
            ("allMatchedMs", "time to all matched", "ms", "lower"),
        ],
        "relay-rate": [
            ("p50", "one-way latency p50", "ms", "lower"),
            ("p99", "one-way latency p99", "ms", "lower"),
            ("p999", "one-way latency p99.9", "ms", "lower"),
            ("lost", "messages lost", "", "lower"),
        ],
        "pingpong": [
            ("msgsPerS", "closed-loop relay (wall)", "msgs/s", "higher"),
            ("msgsPerCpuS", "relay per server core (1e6 / CPU µs)", "msgs/s", "higher"),
            ("serverCpuUsPerMsg", "server CPU per message", "µs", "lower"),
            ("clientCpuUtil", "load client core busy", "", "lower"),
        ],
        "pingpong-typing": [
            ("msgsPerS", "closed-loop typing relay (wall)", "msgs/s", "higher"),
            ("msgsPerCpuS", "typing relay per server core", "msgs/s", "higher"),
            ("serverCpuUsPerMsg", "server CPU per typing relay", "µs", "lower"),
        ],
        "pingpong-long": [
            ("msgsPerS", "closed-loop relay, chat lines 20-300 chars (wall)", "msgs/s", "higher"),
            ("msgsPerCpuS", "chat-line relay per server core", "msgs/s", "higher"),
            ("serverCpuUsPerMsg", "server CPU per chat line", "µs", "lower"),
        ],
        "pingpong-signal": [
            (
                "msgsPerS",
                "closed-loop relay, 3-5 KB offers + ICE candidates (wall)",
                "msgs/s",
                "higher",
            ),
            ("msgsPerCpuS", "signaling relay per server core", "msgs/s", "higher"),
            ("serverCpuUsPerMsg", "server CPU per offer or candidate", "µs", "lower"),
        ],
        "churn": [
            ("matchesPerS", "matches under churn", "/s", "higher"),
            ("matchesPerCpuS", "matches per server core (1e6 / CPU µs)", "/s", "higher"),
            ("serverCpuUsPerMatch", "server CPU per match", "µs", "lower"),
            ("serverCpuUtil", "server core busy", "", "lower"),
            ("clientCpuUtil", "load client core busy", "", "lower"),
            ("realErrors", "errors (excluding client races)", "", "lower"),
            ("rssGrowthKb", "server RSS end - start", "KB", "lower"),
        ],
    }[scenario]


def flatten(r: dict[str, Any]) -> dict[str, Any]:
    flat = dict(r)
    flat.update(r.get("latencyMs") or {})
    if r.get("serverCpuUsPerMsg"):
        flat["msgsPerCpuS"] = 1e6 / r["serverCpuUsPerMsg"]
    if r.get("serverCpuUsPerMatch"):
        flat["matchesPerCpuS"] = 1e6 / r["serverCpuUsPerMatch"]
    real, races = split_errors(r)
    flat["realErrors"], flat["races"] = real, races
    if "rssEndKb" in r:
        flat["rssGrowthKb"] = r["rssEndKb"] - r["rssBeforeKb"]
    return flat


def median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    vals = [float(r[key]) for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


async def run_all(
    profile: dict[str, dict[str, Any]], reps: int, only: list[str], targets: list[str]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    runs: dict[str, dict[str, list[dict[str, Any]]]] = collections.defaultdict(
        lambda: collections.defaultdict(list)
    )
    for scenario in SCENARIOS:
        if scenario not in only:
            continue
        for rep in range(reps):
            for target in targets:
                t0 = time.monotonic()
                with server(target) as srv:
                    r = await run_scenario(srv, scenario, profile[scenario])
                runs[scenario][target].append(flatten(r))
                print(
                    f"  {scenario:<10} {target:<8} rep {rep + 1}/{reps} "
                    f"({time.monotonic() - t0:.0f} s): {summary(scenario, r)}",
                    flush=True,
                )
    return runs


def summary(scenario: str, r: dict[str, Any]) -> str:
    f = flatten(r)
    parts = [f"{label}={fmt(f.get(key))}{unit}" for key, label, unit, _ in metrics(scenario)[:3]]
    real, races = split_errors(r)
    return ", ".join(parts) + f", errors={real}" + (f" (+{races} races)" if races else "")


def fmt(v: Any) -> str:
    if v is None:
        return "—"
    if v == 0:
        return "0"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.2f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def table(
    runs: dict[str, dict[str, list[dict[str, Any]]]],
    profile: dict[str, dict[str, Any]],
    targets: list[str],
) -> tuple[str, list[dict[str, Any]]]:
    head = "| scenario | metric | " + " | ".join(targets)
    head += " | Connect / Socket.IO |" if {"connect", "socketio"} <= set(targets) else " |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    rows = []
    for scenario in SCENARIOS:
        if scenario not in runs:
            continue
        size = ", ".join(f"{k}={v}" for k, v in profile[scenario].items())
        for key, label, unit, better in metrics(scenario):
            vals = {t: median_of(runs[scenario][t], key) for t in targets}
            ratio = None
            c, s = vals.get("connect"), vals.get("socketio")
            if c is not None and s:
                ratio = c / s
            rows.append(
                {
                    "scenario": scenario,
                    "metric": key,
                    "label": label,
                    "unit": unit,
                    "better": better,
                    "values": vals,
                    "ratio": ratio,
                }
            )
            cells = " | ".join(fmt(vals[t]) for t in targets)
            r = "" if ratio is None else f"{ratio:.2f}x"
            u = f" ({unit})" if unit else ""
            arrow = "↑" if better == "higher" else "↓"
            lines.append(f"| {scenario} ({size}) | {label}{u} {arrow} | {cells} | {r} |")
    return "\n".join(lines), rows


GOALS = [
    # (label, scenario, metric, comparison, target ratio)
    ("relay throughput per core ≥ 1.5x reference", "pingpong", "msgsPerCpuS", ">=", 1.5),
    (
        "relay per core, chat lines 20-300 chars, ≥ 1.5x reference",
        "pingpong-long",
        "msgsPerCpuS",
        ">=",
        1.5,
    ),
    ("one-way p99 at 2,000 msgs/s ≤ 1.0x reference", "relay-rate", "p99", "<=", 1.0),
    ("RSS per idle connection ≤ 1.0x reference", "connect", "rssPerConnKb", "<=", 1.0),
    ("burst pairing ≥ 1.5x reference", "burst", "pairsPerS", ">=", 1.5),
    ("churn matches/s ≥ 1.5x reference (bounded by think time)", "churn", "matchesPerS", ">=", 1.5),
    ("churn matches per server core ≥ 1.5x reference", "churn", "matchesPerCpuS", ">=", 1.5),
]


def goals(rows: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    out = ['| goal (issue "Performance") | Connect / Socket.IO | met? |', "| --- | --- | --- |"]
    res = []
    for label, scenario, metric, cmp, want in GOALS:
        row = next((r for r in rows if r["scenario"] == scenario and r["metric"] == metric), None)
        ratio = row["ratio"] if row else None
        met = None if ratio is None else (ratio >= want if cmp == ">=" else ratio <= want)
        res.append({"goal": label, "ratio": ratio, "met": met})
        shown = "—" if ratio is None else f"{ratio:.2f}x"
        out.append(f"| {label} | {shown} | {'—' if met is None else ('yes' if met else 'no')} |")
    return "\n".join(out), res


def write_doc(block: str, begin: str = BEGIN, end: str = END) -> None:
    text = DOC.read_text()
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1]
        text = before + begin + "\n" + block + "\n" + end + after
    else:
        text = text.rstrip("\n") + "\n\n" + begin + "\n" + block + "\n" + end + "\n"
    DOC.write_text(text)


def soak_figures(r: dict[str, Any], warmup_s: float) -> dict[str, Any]:
    """RSS after warm-up against RSS at the end (medians of 30 s windows), and the errors.

    The first ``warmup_s`` seconds are the server filling its steady-state
    structures (connections, sessions, rate-limit windows, the skip memory
    of its TTL); "flat" means the end of the run holds no more than the
    start of the steady state, give or take 5%.
    """
    samples: list[tuple[float, float]] = [(float(t), float(kb)) for t, kb in r["rssSamples"]]
    end_t = samples[-1][0]
    start = [kb for t, kb in samples if warmup_s <= t < warmup_s + 30] or [samples[0][1]]
    last = [kb for t, kb in samples if t >= end_t - 30]
    after = [kb for t, kb in samples if t >= warmup_s]
    rss_start = statistics.median(start)
    rss_end = statistics.median(last)
    real, races = split_errors(r)
    return {
        "durationS": round(float(r["durationS"]), 1),
        "warmupS": warmup_s,
        "rssBeforeKb": r["rssBeforeKb"],
        "rssAfterWarmupKb": round(rss_start),
        "rssEndKb": round(rss_end),
        "rssMaxAfterWarmupKb": round(max(after)),
        "growthPct": round(100 * (rss_end - rss_start) / rss_start, 2),
        "matchesPerS": round(float(r["matchesPerS"])),
        "matches": r.get("matches"),
        "opens": r.get("opens"),
        "errors": real,
        "races": races,
        "unexpectedCloses": r.get("unexpectedCloses"),
        "openFailures": r.get("openFailures"),
        "openErrors": r.get("openErrors"),
        "stillOpen": r.get("stillOpen"),
        "serverCpuS": round(float(r["serverCpuS"]), 1),
    }


def soak(n: int, duration_s: float, procs: int, write: bool) -> None:
    """Churn against Connect alone for ``duration_s``: is RSS flat, are there errors?"""
    warmup = min(120.0, duration_s / 5)

    async def go() -> dict[str, Any]:
        with server("connect", SOAK_SETTINGS) as srv:
            # Think time 5-30 s in each session: 5,000 visitors at a steady rate the
            # server carries, not a saturation test (the churn scenario is that).
            params = {
                "n": n,
                "duration": duration_s,
                "setupTimeoutS": 300,
                "dwellMs": SOAK_DWELL_MS,
                "rampMs": SOAK_RAMP_MS,
            }
            return await run_scenario(srv, "churn", params, procs=procs)

    started = dt.datetime.now(dt.UTC)
    r = asyncio.run(go())
    f = soak_figures(r, warmup)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "soak.json").write_text(
        json.dumps({"started": started.isoformat(timespec="seconds"), "figures": f, "run": r})
        + "\n"
    )
    flat = (
        abs(f["growthPct"]) <= 5
        and f["errors"] == 0
        and not f["unexpectedCloses"]
        and not f["openFailures"]
    )
    block = (
        f"Run: `python -m bench.run --soak --soak-n {n} --soak-duration {duration_s:.0f}`, "
        f"{started:%Y-%m-%d %H:%M} UTC, Connect alone (memory state, SQLite), "
        f"{n:,} visitors arriving over {SOAK_RAMP_MS / 1000:.0f} s and churning (think time "
        f"{SOAK_DWELL_MS[0] / 1000:.0f}-{SOAK_DWELL_MS[1] / 1000:.0f} s per session), "
        f"session records and recent-pair memory kept {SOAK_RETENTION_S} s, Node load client in "
        f"{procs} process(es); server CPU {f['serverCpuS']:.0f} s.\n\n"
        "| figure | value |\n| --- | --- |\n"
        f"| duration / warm-up | {f['durationS']:.0f} s / {warmup:.0f} s |\n"
        f"| server RSS before load | {f['rssBeforeKb'] / 1024:,.1f} MiB |\n"
        f"| server RSS after warm-up (median of 30 s) | {f['rssAfterWarmupKb'] / 1024:,.1f} MiB |\n"
        f"| server RSS at the end (median of last 30 s) | {f['rssEndKb'] / 1024:,.1f} MiB |\n"
        f"| highest RSS after warm-up | {f['rssMaxAfterWarmupKb'] / 1024:,.1f} MiB |\n"
        f"| growth after warm-up | {f['growthPct']:+.2f}% |\n"
        f"| matches (per second) | {f['matches']:,} ({f['matchesPerS']:,}/s) |\n"
        f"| connections opened | {f['opens']:,} |\n"
        f"| errors (client races counted apart) | {f['errors']} (races: {f['races']:,}) |\n"
        f"| unexpected closes / failed opens / left open | {f['unexpectedCloses']} / "
        f"{f['openFailures']} / {f['stillOpen']} |\n\n"
        f"Goal (RSS within 5% after warm-up, zero errors): **{'met' if flat else 'not met'}**."
    )
    print(block)
    if write:
        write_doc(block, SOAK_BEGIN, SOAK_END)


def profile_connect(scenario: str = "pingpong", duration_s: float = 10.0) -> None:
    """py-spy on Connect's server process while one scenario runs (from its "go")."""
    RESULTS_DIR.mkdir(exist_ok=True)
    pyspy = str(Path(sys.executable).parent / "py-spy")
    stem = "profile" if scenario == "pingpong" else f"profile-{scenario}"
    sizes: dict[str, dict[str, Any]] = {
        "pingpong": {"pairs": 200, "duration": duration_s + 2},
        "pingpong-typing": {"pairs": 200, "duration": duration_s + 2},
        "pingpong-long": {"pairs": 200, "duration": duration_s + 2},
        "pingpong-signal": {"pairs": 200, "duration": duration_s + 2},
        "connect": {"n": 3000},
        "burst": {"n": 8000, "duration": 60},
        "relay-rate": {"pairs": 200, "rate": 2000, "duration": duration_s + 2},
        "churn": {"n": 200, "duration": duration_s + 2},
    }
    params = sizes[scenario]
    # A burst is over in about a second: sample it densely, and only while it pairs.
    seconds, rate = (1, 2000) if scenario == "burst" else (int(duration_s), 100)

    async def go() -> None:
        with server("connect") as srv:
            common = ["--pid", str(srv.pid), "--duration", str(seconds), "--rate", str(rate)]
            common.append("--nonblocking")
            spies: list[asyncio.subprocess.Process] = []

            async def spy(*args: str) -> None:
                spies.append(
                    await asyncio.create_subprocess_exec(
                        pyspy,
                        "record",
                        *args,
                        *common,
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=asyncio.subprocess.DEVNULL,
                    )
                )

            started: list[asyncio.Task[None]] = []

            def on_go() -> None:
                started.append(asyncio.ensure_future(spy("-o", str(RESULTS_DIR / f"{stem}.svg"))))
                raw = ["--format", "raw", "-o", str(RESULTS_DIR / f"{stem}.txt")]
                started.append(asyncio.ensure_future(spy(*raw)))

            r = await run_scenario(srv, scenario, params, on_go=on_go)
            await asyncio.gather(*started)
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in spies)), duration_s + 60)
            print(f"{scenario} under py-spy: {summary(scenario, r)}")

    asyncio.run(go())
    print(summarise_profile(RESULTS_DIR / f"{stem}.txt"))


def summarise_profile(path: Path, top: int = 15) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    self_n: collections.Counter[str] = collections.Counter()
    incl_n: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f for f in stack.split(";") if f]
        if frames:
            self_n[frames[-1]] += n
        for f in set(frames):
            incl_n[f] += n
    if not total:
        return "no samples"

    def short(f: str) -> str:
        return f.replace(str(BENCH_DIR.parent) + "/", "").replace("/.venv/lib/python3.11/", "")

    out = [f"{total} samples", "", "self (top frames):"]
    out += [f"  {n / total:6.1%}  {short(f)}" for f, n in self_n.most_common(top)]
    out += ["", "inclusive:"]
    out += [f"  {n / total:6.1%}  {short(f)}" for f, n in incl_n.most_common(top + 10)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", dest="profile", const="quick")
    size.add_argument("--full", action="store_const", dest="profile", const="full")
    size.add_argument("--smoke", action="store_const", dest="profile", const="smoke")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (quick 1, full 3)")
    parser.add_argument("--only", nargs="*", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--targets", nargs="*", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--soak", action="store_true", help="churn soak against Connect alone")
    parser.add_argument("--soak-n", type=int, default=5000, help="visitors in the soak")
    parser.add_argument("--soak-duration", type=float, default=600.0, help="seconds of soak")
    parser.add_argument("--soak-procs", type=int, default=2, help="load client processes")
    parser.add_argument(
        "--profile",
        dest="pyspy",
        action="store_true",
        help="py-spy Connect under pingpong (or the --only scenarios)",
    )
    args = parser.parse_args()
    reason = node_available()
    if reason:
        raise SystemExit(reason)
    ensure_node_deps()
    if args.soak:
        soak(args.soak_n, args.soak_duration, args.soak_procs, not args.no_doc)
        return
    if args.pyspy:
        for scenario in args.only if len(args.only) < len(SCENARIOS) else ["pingpong"]:
            profile_connect(scenario)
        return
    name = args.profile or "quick"
    reps = max(1, min(args.reps or (3 if name == "full" else 1), 10))
    profile = PROFILES[name]
    machine = machine_info()
    started = dt.datetime.now(dt.UTC)
    print(f"bench {name}, {reps} rep(s), machine: {machine['cpu']}, {machine['cores']} cores")
    runs = asyncio.run(run_all(profile, reps, args.only, args.targets))
    text, rows = table(runs, profile, args.targets)
    gtext, gres = goals(rows)
    print()
    print(text)
    print()
    print(gtext)
    RESULTS_DIR.mkdir(exist_ok=True)
    result = {
        "profile": name,
        "reps": reps,
        "started": started.isoformat(timespec="seconds"),
        "machine": machine,
        "params": profile,
        "rows": rows,
        "goals": gres,
        "runs": runs,
    }
    (RESULTS_DIR / "latest.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    if not args.no_doc and name != "smoke":
        m = machine
        pin = "server pinned to core 0, Node load client to core 1" if m["pinned"] else "unpinned"
        block = (
            f"Run: `python -m bench.run --{name}` ({reps} rep(s), medians), "
            f"{started:%Y-%m-%d %H:%M} UTC. Machine: {m['cpu']}, {m['cores']} cores "
            f"({pin}), "
            f"{m['memGiB']} GiB, Linux {m['kernel']}, Python {m['python']}, Node {m['node']}, "
            f"socket.io {m['npm'].get('socket.io', '?')}, ws {m['npm'].get('ws', '?')}; "
            f"load average {m['loadAvg1mAtStart']} at start (shared machine). "
            "↑ higher is better, ↓ lower is better.\n\n" + text + "\n\n" + gtext
        )
        write_doc(block)
    print(f"\nwrote {RESULTS_DIR / 'latest.json'}")


if __name__ == "__main__":
    main()
