"""``connect loadtest``'s arguments and the run's configuration (no heavy imports here:
the main command line builds this parser on every start)."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MAX_USERS = 100_000
MAX_PROCESSES = 64
MAX_DURATION_S = 24 * 3600


@dataclass(frozen=True)
class Config:
    url: str
    users: int
    ramp_up_s: float
    duration_s: float
    processes: int
    slo_match_p95_ms: float
    slo_signal_p95_ms: float
    slo_error_rate: float
    report: Path
    allow_remote: bool
    progress_s: float
    mode: str
    session_min_s: float
    session_max_s: float
    chat_lines: int
    churn: float
    match_timeout_s: float

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out["report"] = str(self.report)
        return out


def _bounded(kind: type, low: float, high: float) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be within {low}..{high}")
        return value

    return parse


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "loadtest",
        help="drive a running Connect with simulated visitors and check the SLOs",
        description=(
            "Simulated visitors (token, hello, join, match, offer/answer/candidates, chat, "
            "next, disconnect) against a running deployment. Exits 1 when an SLO is missed. "
            "Only loopback targets unless --allow-remote."
        ),
    )
    p.add_argument("--url", required=True, help="the deployment's base URL, http(s)://host[:port]")
    p.add_argument("--users", type=_bounded(int, 2, MAX_USERS), default=500)
    p.add_argument(
        "--ramp-up",
        dest="ramp_up_s",
        type=_bounded(float, 0, 3600),
        default=60.0,
        help="seconds over which the visitors arrive (default 60)",
    )
    p.add_argument(
        "--duration",
        dest="duration_s",
        type=_bounded(float, 1, MAX_DURATION_S),
        default=300.0,
        help="seconds of full load after the ramp-up (default 300)",
    )
    p.add_argument(
        "--processes",
        type=_bounded(int, 1, MAX_PROCESSES),
        default=1,
        help="client processes sharing the visitors (default 1)",
    )
    p.add_argument("--slo-match-p95-ms", type=_bounded(float, 0, 1e9), default=5000.0)
    p.add_argument("--slo-signal-p95-ms", type=_bounded(float, 0, 1e9), default=200.0)
    p.add_argument("--slo-error-rate", type=_bounded(float, 0, 1), default=0.001)
    p.add_argument(
        "--report",
        type=Path,
        default=Path("loadtest-report"),
        help="writes <report>.json and <report>.md (default loadtest-report)",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a target that is not loopback (a deployment you operate)",
    )
    p.add_argument(
        "--progress",
        dest="progress_s",
        type=_bounded(float, 0.5, 600),
        default=5.0,
        help="seconds between progress lines (default 5)",
    )
    p.add_argument("--mode", choices=("video", "text"), default="video")
    p.add_argument(
        "--session-min", dest="session_min_s", type=_bounded(float, 0.5, 3600), default=5.0
    )
    p.add_argument(
        "--session-max", dest="session_max_s", type=_bounded(float, 0.5, 3600), default=20.0
    )
    p.add_argument("--chat-lines", type=_bounded(int, 0, 100), default=2)
    p.add_argument(
        "--churn",
        type=_bounded(float, 0, 1),
        default=0.2,
        help="chance that a visitor disconnects after a session (default 0.2)",
    )
    p.add_argument(
        "--match-timeout", dest="match_timeout_s", type=_bounded(float, 1, 3600), default=30.0
    )


def config_from(args: argparse.Namespace) -> Config:
    if args.session_max_s < args.session_min_s:
        raise ValueError("--session-max must not be below --session-min")
    report: Path = args.report
    if report.suffix in (".json", ".md"):
        report = report.with_suffix("")
    return Config(
        url=args.url,
        users=args.users,
        ramp_up_s=args.ramp_up_s,
        duration_s=args.duration_s,
        processes=min(args.processes, args.users),
        slo_match_p95_ms=args.slo_match_p95_ms,
        slo_signal_p95_ms=args.slo_signal_p95_ms,
        slo_error_rate=args.slo_error_rate,
        report=report,
        allow_remote=args.allow_remote,
        progress_s=args.progress_s,
        mode=args.mode,
        session_min_s=args.session_min_s,
        session_max_s=args.session_max_s,
        chat_lines=args.chat_lines,
        churn=args.churn,
        match_timeout_s=args.match_timeout_s,
    )
