"""Scale-out figures: relay latency within one node vs across nodes, and burst pairing
rate of three nodes vs one, on a real cluster (Redis, PostgreSQL, HAProxy, loopback).

    .venv/bin/python -m bench.cluster --messages 500 --burst 400

Latency is one-way, measured in one client process (same clock on both ends):
the sender embeds perf_counter() in the chat text, the receiver subtracts. Messages
are paced (one every 2 ms) so queues stay empty and the figure is the path's cost.
Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import orjson
from tests.support.client import Peer, guest_token
from tests.support.cluster import Cluster, start_cluster


async def _pair(a_node: tuple[str, str], b_node: tuple[str, str]) -> tuple[Peer, Peer]:
    a = await Peer.connect(a_node[1], await guest_token(a_node[0]))
    b = await Peer.connect(b_node[1], await guest_token(b_node[0]))
    tag = [secrets.token_hex(6)]
    await a.request("join-queue", {"mode": "text", "interests": tag})
    await b.request("join-queue", {"mode": "text", "interests": tag})
    await a.event("matched")
    await b.event("matched")
    return a, b


async def relay_latency(cluster: Cluster, i: int, j: int, messages: int) -> list[float]:
    a_node = (cluster.nodes[i].http, cluster.nodes[i].ws)
    b_node = (cluster.nodes[j].http, cluster.nodes[j].ws)
    a, b = await _pair(a_node, b_node)
    samples: list[float] = []
    for _ in range(messages):
        await a.emit("send-message", {"text": orjson.dumps(time.perf_counter()).decode()})
        got = await b.event("message", timeout=5)
        samples.append((time.perf_counter() - float(got["text"])) * 1000)
        b.inbox.clear()
        await asyncio.sleep(0.002)  # pacing between samples, not synchronisation
    await a.close()
    await b.close()
    return sorted(samples)


async def burst(http: str, ws: str, n: int) -> float:
    async def one() -> Peer:
        return await Peer.connect(ws, await guest_token(http))

    peers = await asyncio.gather(*(one() for _ in range(n)))
    started = time.perf_counter()
    await asyncio.gather(*(p.emit("join-queue", {"mode": "text"}) for p in peers))
    await asyncio.gather(*(p.event("matched", timeout=60) for p in peers))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(p.close() for p in peers))
    return (n / 2) / elapsed


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * (len(values) - 1)))]


async def measure(cluster: Cluster, messages: int, n: int) -> dict[str, float]:
    same = await relay_latency(cluster, 0, 0, messages)
    cross = await relay_latency(cluster, 0, 1, messages)
    three = statistics.median([await burst(cluster.http, cluster.ws, n) for _ in range(3)])
    node = cluster.nodes[0]
    one = statistics.median([await burst(node.http, node.ws, n) for _ in range(3)])
    return {
        "same_p50_ms": statistics.median(same),
        "same_p99_ms": pct(same, 0.99),
        "cross_p50_ms": statistics.median(cross),
        "cross_p99_ms": pct(cross, 0.99),
        "pairs_per_s_three_nodes_via_haproxy": three,
        "pairs_per_s_one_node_direct": one,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--burst", type=int, default=400)
    args = parser.parse_args()
    with ExitStack() as stack:
        cluster = start_cluster(
            Path(tempfile.mkdtemp(prefix="connect-cluster-")),
            stack,
            settings={"CONNECT_EVENT_RATE_PER_S": "100000", "CONNECT_EVENT_BURST": "100000"},
        )
        result = asyncio.run(measure(cluster, min(args.messages, 5000), min(args.burst, 2000)))
    for key, value in result.items():
        print(f"{key}: {value:.3f}")


if __name__ == "__main__":
    main()
