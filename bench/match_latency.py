"""Time from the second join-queue to `matched` on both sides, over real sockets.

Starts a real server (subprocess, loopback), then for each run connects two
fresh visitors with a shared unique interest, sends the first join, waits for
its `queued`, sends the second join and measures until both sides hold
`matched`. Bounded: ``--runs`` pairs, each with a 5 s timeout.

    .venv/bin/python -m bench.match_latency --runs 50
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.client import Peer, guest_token
from tests.support.server import start_server


async def one_run(ws: str, http: str) -> float:
    a = await Peer.connect(ws, await guest_token(http))
    b = await Peer.connect(ws, await guest_token(http))
    tag = [secrets.token_hex(6)]
    await a.emit("join-queue", {"mode": "video", "interests": tag})
    await a.event("queued")
    start = time.perf_counter()
    await b.emit("join-queue", {"mode": "video", "interests": tag})
    await asyncio.gather(a.event("matched"), b.event("matched"))
    elapsed = time.perf_counter() - start
    await a.close()
    await b.close()
    return elapsed


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp))
        try:
            samples = [await one_run(server.ws, server.http) for _ in range(runs)]
        finally:
            server.stop()
    samples_ms = sorted(s * 1000 for s in samples)
    print(
        f"second join -> matched on both sides, {runs} runs: "
        f"median {statistics.median(samples_ms):.2f} ms, "
        f"p90 {samples_ms[int(0.9 * (runs - 1))]:.2f} ms, max {samples_ms[-1]:.2f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(min(max(parser.parse_args().runs, 1), 1000)))
