"""Run a load test: visitors spread over one or more processes, a progress line every few
seconds, then the SLO verdict and the reports.

With ``--processes N`` each process is started fresh (``spawn``) and drives every N-th
visitor; it sends its figures to this process once a second (counters as deltas, new
latency samples, its gauges), so progress lines and the final percentiles cover all of
them. Everything is bounded in time: visitors disconnect when the run ends, a worker
that has not finished ``GRACE_S`` after that is stopped, and so is the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import queue as queue_mod
import random
import secrets
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from connect.loadtest.options import Config
from connect.loadtest.report import write_reports
from connect.loadtest.stats import GAUGES, Tally
from connect.loadtest.target import Target, check_target
from connect.loadtest.visitor import Scenario, Visitor

REPORT_EVERY_S = 1.0
GRACE_S = 30.0  # after the end: visitors close, workers report, or are stopped
SPAWN_LEAD_S = 2.0  # workers start together this long after launch (spawning takes time)


class LoadTestFailed(Exception):
    """The run could not happen (the target does not answer); phrased for the operator."""


Report = Callable[[dict[str, Any]], None]


async def drive(
    scenario: Scenario,
    offsets: list[float],
    start_wall: float,
    run_s: float,
    report: Report,
) -> None:
    """Start a visitor at each offset (seconds after ``start_wall``) and stop them all at
    ``start_wall + run_s``; ``report`` gets a delta every second and a final one."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, start_wall - time.time()))  # the common start
    tally = Tally()
    t0 = loop.time()
    stop_at = t0 + run_s
    rng = random.Random()  # noqa: S311 (think times, not secrets)

    async def launch(offset: float) -> None:
        await asyncio.sleep(offset)
        if loop.time() < stop_at:
            try:
                await Visitor(scenario, tally, stop_at, random.Random(rng.random())).run()  # noqa: S311
            except Exception as exc:
                # A visitor that broke (a frame it did not expect) is counted, not hidden:
                # the error rate shows the load was lower than asked for.
                tally.request(False, f"client_{type(exc).__name__}")

    tasks = [loop.create_task(launch(o)) for o in offsets]
    last = tally.snapshot()
    all_done = asyncio.gather(*tasks, return_exceptions=True)
    hard_stop = stop_at + scenario.request_timeout_s * 2 + 5
    while not all_done.done():
        await asyncio.wait(
            {all_done}, timeout=min(REPORT_EVERY_S, max(0.0, hard_stop - loop.time()))
        )
        report({"delta": tally.take_delta(last)})
        last = tally.snapshot()
        if loop.time() >= hard_stop:
            all_done.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await all_done
            break
    report({"delta": tally.take_delta(last), "done": True})


def _worker(
    scenario: dict[str, Any], offsets: list[float], start_wall: float, run_s: float, out: Any
) -> None:
    """A client process: drive its share of visitors, report through the queue ``out``."""
    asyncio.run(drive(Scenario(**scenario), offsets, start_wall, run_s, out.put))


class Aggregate:
    """The run's figures as the workers report them."""

    def __init__(self, workers: int) -> None:
        self.tally = Tally()
        self.gauges: list[dict[str, int]] = [dict.fromkeys(GAUGES, 0) for _ in range(workers)]
        self.done = [False] * workers
        self.timeline: list[dict[str, Any]] = []

    def take(self, worker: int, message: dict[str, Any]) -> None:
        delta = message["delta"]
        self.tally.merge(delta)
        self.gauges[worker] = delta["gauges"]
        if message.get("done"):
            self.done[worker] = True

    def gauge(self, name: str) -> int:
        return sum(g.get(name, 0) for g in self.gauges)

    def progress(self, elapsed: float, users: int) -> str:
        t = self.tally
        match, signal = t.latency("match_ms"), t.latency("signal_ms")
        requests = t.counters["requests"]
        errors = sum(t.errors.values())
        self.timeline.append(
            {
                "elapsedS": round(elapsed, 1),
                **{g: self.gauge(g) for g in GAUGES},
                "matches": t.counters["matches"],
                "requests": requests,
                "errors": errors,
                "matchP95Ms": match["p95"],
                "signalP95Ms": signal["p95"],
            }
        )
        return (
            f"[{elapsed:6.0f}s] visitors {self.gauge('users')}/{users} "
            f"connected {self.gauge('connected')} waiting {self.gauge('waiting')} "
            f"in session {self.gauge('in_session')} | matches {t.counters['matches']} "
            f"p95 {_ms(match['p95'])} | signaling {signal['count']} p95 {_ms(signal['p95'])} | "
            f"errors {errors}/{requests} ({t.error_rate:.3%})"
        )


def _ms(value: float | int | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def preflight(target: Target, timeout: float = 10.0) -> None:
    """``GET /health`` must answer 200 before any visitor is started."""
    request = urllib.request.Request(  # noqa: S310 (http(s) only: check_target)
        f"{target.http}/health", headers={"User-Agent": "connect-loadtest"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            if response.status == 200:
                return
            status = response.status
    except OSError as exc:
        raise LoadTestFailed(f"{target.http}/health does not answer ({exc})") from None
    raise LoadTestFailed(f"{target.http}/health answered {status}")


def offsets_for(config: Config) -> list[list[float]]:
    """Each process's visitors' start times: visitor i at ramp_up * i / users."""
    shares: list[list[float]] = [[] for _ in range(config.processes)]
    for i in range(config.users):
        shares[i % config.processes].append(config.ramp_up_s * i / config.users)
    return shares


def _say(line: str) -> None:
    print(line, flush=True)  # progress must show at once, also through a pipe or tee


def run(config: Config, say: Callable[[str], None] = _say) -> int:
    """The whole load test; 0 when every SLO is met, 1 when one is missed.

    Raises TargetRefused (not loopback without --allow-remote) before any traffic, and
    LoadTestFailed when the target does not answer its health check.
    """
    target = check_target(config.url, allow_remote=config.allow_remote)
    preflight(target)
    run_id = secrets.token_hex(4)
    scenario = Scenario(
        http=target.http,
        ws=target.ws,
        mode=config.mode,
        interest=f"loadtest-{run_id}",
        session_min_s=config.session_min_s,
        session_max_s=config.session_max_s,
        chat_lines=config.chat_lines,
        churn=config.churn,
        match_timeout_s=config.match_timeout_s,
    )
    run_s = config.ramp_up_s + config.duration_s
    say(
        f"connect loadtest {run_id}: {config.users} visitors over {config.processes} "
        f"process(es) against {target.http} ({', '.join(target.addresses)}), "
        f"ramp-up {config.ramp_up_s:.0f} s, then {config.duration_s:.0f} s"
    )
    started_at = time.time()
    aggregate = asyncio.run(_collect(config, scenario, run_s, say))
    elapsed = time.time() - started_at
    verdict = write_reports(config, target, run_id, started_at, elapsed, aggregate)
    for line in verdict.lines:
        say(line)
    say(f"reports: {verdict.json_path} {verdict.markdown_path}")
    return 0 if verdict.passed else 1


async def _collect(
    config: Config, scenario: Scenario, run_s: float, say: Callable[[str], None]
) -> Aggregate:
    shares = offsets_for(config)
    aggregate = Aggregate(len(shares))
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    deadline = t0 + SPAWN_LEAD_S + run_s + GRACE_S
    next_line = t0 + config.progress_s
    if len(shares) == 1:
        inbox: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        task = loop.create_task(
            drive(scenario, shares[0], time.time(), run_s, lambda m: inbox.put_nowait((0, m)))
        )
        try:
            while not all(aggregate.done) and loop.time() < deadline:
                with contextlib.suppress(TimeoutError):
                    worker, message = await asyncio.wait_for(inbox.get(), 0.5)
                    aggregate.take(worker, message)
                if task.done() and inbox.empty() and not all(aggregate.done):
                    task.result()  # the driver itself failed: say why
                if loop.time() >= next_line:
                    say(aggregate.progress(loop.time() - t0, config.users))
                    next_line += config.progress_s
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return aggregate
    ctx = multiprocessing.get_context("spawn")
    start_wall = time.time() + SPAWN_LEAD_S
    queues = [ctx.Queue() for _ in shares]
    procs = [
        ctx.Process(
            target=_worker,
            args=(asdict(scenario), share, start_wall, run_s, q),
            name=f"connect-loadtest-{i}",
            daemon=True,
        )
        for i, (share, q) in enumerate(zip(shares, queues, strict=True))
    ]
    for proc in procs:
        proc.start()
    try:
        while not all(aggregate.done) and loop.time() < deadline:
            got = False
            for i, q in enumerate(queues):
                with contextlib.suppress(queue_mod.Empty):
                    while True:
                        aggregate.take(i, q.get_nowait())
                        got = True
            for i, proc in enumerate(procs):
                if not aggregate.done[i] and not proc.is_alive() and queues[i].empty():
                    # Exited without its final report (killed, or crashed: its stderr says).
                    aggregate.done[i] = True
                    aggregate.tally.request(False, "worker_died")
            if not got:
                await asyncio.sleep(0.2)  # polling the workers' queues, bounded by deadline
            if loop.time() >= next_line:
                say(aggregate.progress(loop.time() - t0, config.users))
                next_line += config.progress_s
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
    return aggregate
