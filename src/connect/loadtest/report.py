"""The verdict against the SLOs and the two reports: JSON for machines (CI, dashboards),
Markdown for the people reading it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connect.loadtest.options import Config
    from connect.loadtest.runner import Aggregate
    from connect.loadtest.target import Target


@dataclass(frozen=True)
class Verdict:
    passed: bool
    slos: list[dict[str, Any]]
    lines: list[str]
    json_path: Path
    markdown_path: Path


def judge(config: Config, aggregate: Aggregate) -> list[dict[str, Any]]:
    """One entry per SLO: its threshold, the measured value, and whether it is met: below
    the threshold, as the SLOs are stated (match p95 < 5 s, signaling p95 < 200 ms, error
    rate < 0.1 %). A latency SLO with no sample is missed (nothing matched or relayed)."""
    t = aggregate.tally
    match, signal = t.latency("match_ms"), t.latency("signal_ms")
    slos = [
        _latency_slo("match p95", match["p95"], config.slo_match_p95_ms),
    ]
    if config.mode == "video":
        slos.append(_latency_slo("signaling p95", signal["p95"], config.slo_signal_p95_ms))
    rate = t.error_rate
    slos.append(
        {
            "name": "error rate",
            "threshold": config.slo_error_rate,
            "value": round(rate, 6),
            "met": t.counters["requests"] > 0 and rate < config.slo_error_rate,
            "unit": "ratio",
        }
    )
    return slos


def _latency_slo(name: str, value: float | int | None, threshold: float) -> dict[str, Any]:
    return {
        "name": name,
        "threshold": threshold,
        "value": value,
        "met": value is not None and value < threshold,
        "unit": "ms",
    }


def write_reports(
    config: Config,
    target: Target,
    run_id: str,
    started_at: float,
    elapsed_s: float,
    aggregate: Aggregate,
) -> Verdict:
    slos = judge(config, aggregate)
    passed = all(s["met"] for s in slos)
    t = aggregate.tally
    try:
        tool_version = version("connect")
    except PackageNotFoundError:
        tool_version = "unknown"
    data = {
        "tool": "connect loadtest",
        "version": tool_version,
        "runId": run_id,
        "startedAt": dt.datetime.fromtimestamp(started_at, dt.UTC).isoformat(),
        "elapsedS": round(elapsed_s, 1),
        "target": {
            "url": target.http,
            "websocket": target.ws,
            "addresses": list(target.addresses),
            "loopback": target.loopback,
        },
        "config": config.public(),
        "passed": passed,
        "slo": slos,
        "latencyMs": {
            "match": t.latency("match_ms"),
            "signaling": t.latency("signal_ms"),
            "chat": t.latency("chat_ms"),
        },
        "counts": dict(sorted(t.counters.items())),
        "errors": dict(t.errors.most_common()),
        "errorRate": round(t.error_rate, 6),
        "timeline": aggregate.timeline,
    }
    config.report.parent.mkdir(parents=True, exist_ok=True)
    json_path = config.report.with_name(config.report.name + ".json")
    markdown_path = config.report.with_name(config.report.name + ".md")
    json_path.write_text(json.dumps(data, indent=1) + "\n")
    markdown_path.write_text(markdown(data))
    lines = [
        f"{'met   ' if s['met'] else 'MISSED'} {s['name']}: {_value(s)} (threshold {_threshold(s)})"
        for s in slos
    ]
    lines.append("PASSED: every SLO met" if passed else "FAILED: an SLO was missed")
    return Verdict(passed, slos, lines, json_path, markdown_path)


def _value(slo: dict[str, Any]) -> str:
    value = slo["value"]
    if value is None:
        return "not measured"
    return f"{value:.3%}" if slo["unit"] == "ratio" else f"{value:.0f} ms"


def _threshold(slo: dict[str, Any]) -> str:
    limit = slo["threshold"]
    return f"{limit:.3%}" if slo["unit"] == "ratio" else f"{limit:.0f} ms"


def markdown(data: dict[str, Any]) -> str:
    cfg = data["config"]
    rows = [
        "# Connect load test " + data["runId"],
        "",
        f"**{'PASSED' if data['passed'] else 'FAILED'}** — {data['target']['url']} "
        f"({', '.join(data['target']['addresses'])}), started {data['startedAt']}, "
        f"{data['elapsedS']} s.",
        "",
        f"{cfg['users']} visitors over {cfg['processes']} process(es), ramp-up "
        f"{cfg['ramp_up_s']:.0f} s, then {cfg['duration_s']:.0f} s; {cfg['mode']} sessions of "
        f"{cfg['session_min_s']:.0f} to {cfg['session_max_s']:.0f} s, {cfg['chat_lines']} chat "
        f"lines each, churn {cfg['churn']}.",
        "",
        "## SLOs",
        "",
        "| SLO | threshold | measured | |",
        "| --- | --- | --- | --- |",
    ]
    for slo in data["slo"]:
        rows.append(
            f"| {slo['name']} | {_threshold(slo)} | {_value(slo)} | "
            f"{'met' if slo['met'] else '**missed**'} |"
        )
    rows += [
        "",
        "## Latency (ms)",
        "",
        "| | count | p50 | p95 | p99 | max |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, lat in data["latencyMs"].items():
        cells = " | ".join(
            "-" if lat[k] is None else str(lat[k]) for k in ("p50", "p95", "p99", "max")
        )
        rows.append(f"| {name} | {lat['count']} | {cells} |")
    rows += ["", "## Counts", "", "| | |", "| --- | --- |"]
    rows += [f"| {k} | {v} |" for k, v in data["counts"].items()]
    rows += ["", f"## Errors ({data['errorRate']:.3%} of requests)", ""]
    if data["errors"]:
        rows += ["| code | count |", "| --- | --- |"]
        rows += [f"| {k} | {v} |" for k, v in data["errors"].items()]
    else:
        rows.append("None.")
    return "\n".join(rows) + "\n"
