"""A node's CPU per cross-node chat line, in process: what the cluster layer
(``gateway/cluster``) costs the sending node (``to_partner``: the outbox, the ``ROUTE``
pipeline) and the receiving node (the subscription's read and the push), without the
WebSocket, the relay service or the load client around it.

    .venv/bin/python -m bench.cluster_cpu --tree OLD=/work/before/src --tree NEW=src

One loopback Redis; per rep and tree (the trees' order alternating between reps), two
processes with ``PYTHONPATH`` on the tree: node ``b`` (the receiver: a real
:class:`~connect.gateway.cluster.Cluster` whose hub's clients count what is pushed to
them) and node ``a`` (the sender: ``--pairs`` stranger sessions in Redis, each line a
``to_partner(..., transcript=True)`` to the partner held by ``b``, started at ``--rate``
lines/s in ticks of 1 ms, as a node's read callbacks start them; or, with ``--burst N``,
N lines at once and the next N when all are answered, so every pipeline holds N lines
whatever the machine's load: paced, a busier machine batches more lines per pipeline and
the CPU per line falls for that reason alone). Each process reports
its own CPU (``os.times``, user + system) over the window in which the lines were sent
and received, divided by the lines; an idle node's background (heartbeats every 0.5 s)
is in it, the same for both trees. Both run pure Python (``CONNECT_PURE_PYTHON=1``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class _Sink:
    """A client of the receiving node's hub: counts the frames pushed to it."""

    def __init__(self, done: asyncio.Future[None], total: int, counter: list[int]) -> None:
        self._done = done
        self._total = total
        self._counter = counter

    def push(self, text: str) -> bool:
        self._counter[0] += 1
        if self._counter[0] == self._total and not self._done.done():
            self._done.set_result(None)
        return True


class _Hub:
    """What the cluster layer asks of a hub, no more (the same for every tree)."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self._clients = clients
        self.cluster: Any = None

    def get(self, client_id: str) -> Any:
        return self._clients.get(client_id)

    def clients(self) -> list[Any]:
        return []

    def release(self, client_id: str) -> list[str]:
        return []


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


async def _receiver(url: str, pairs: int, lines: int) -> dict[str, Any]:
    from connect.gateway.cluster import Cluster
    from connect.storage.redis import PREFIX, connect

    client = connect(url)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    counter = [0]
    sinks = {f"b{i}": _Sink(done, lines, counter) for i in range(pairs)}
    node = Cluster(client, "b", grace_s=10)
    node.attach(_Hub(sinks))  # type: ignore[arg-type]
    for cid in sinks:
        await client.hset(f"{PREFIX}conn:{cid}", mapping={"node": "b", "state": "live"})
    await node.start()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    cpu0, t0 = _cpu(), time.monotonic()
    await asyncio.wait_for(done, 120)
    cpu, wall = _cpu() - cpu0, time.monotonic() - t0
    await node.stop()
    await client.aclose()
    return {"lines": counter[0], "cpu_s": cpu, "wall_s": wall}


async def _sender(url: str, pairs: int, lines: int, rate: float, burst: int) -> dict[str, Any]:
    from connect.clock import SystemClock
    from connect.gateway.cluster import Cluster
    from connect.sessions.models import Member
    from connect.sessions.service import SessionService
    from connect.sessions.store import RedisSessionStore
    from connect.storage.redis import connect

    client = connect(url)
    node = Cluster(client, "a", grace_s=10)
    node.attach(_Hub({}))  # type: ignore[arg-type]
    sessions = SessionService(RedisSessionStore(client), SystemClock(), 3600.0)
    for i in range(pairs):
        await sessions.start(
            "text",
            Member(f"a{i}", f"peer-a{i}", f"guest:a{i}", "ip-a"),
            Member(f"b{i}", f"peer-b{i}", f"guest:b{i}", "ip-b"),
            [],
        )
    await node.start()
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    failed = [0]

    async def line(n: int) -> None:
        try:
            await node.to_partner(
                f"a{n % pairs}",
                "message",
                {"text": f"line {n} of the bench", "ts": 1_765_000_000_000 + n},
                transcript=True,
            )
        except Exception:
            failed[0] += 1

    tasks: list[asyncio.Task[None]] = []
    cpu0, t0 = _cpu(), time.monotonic()
    sent = 0
    while burst and sent < lines:  # a fixed number of lines per pipeline
        await asyncio.gather(*(line(n) for n in range(sent, min(lines, sent + burst))))
        sent += burst
    while sent < lines:
        due = min(lines, int((time.monotonic() - t0) * rate) + 1)
        while sent < due:
            tasks.append(loop.create_task(line(sent)))
            sent += 1
        await asyncio.sleep(0.001)
    await asyncio.gather(*tasks)
    cpu, wall = _cpu() - cpu0, time.monotonic() - t0
    await node.stop()
    await client.aclose()
    return {"lines": lines, "failed": failed[0], "cpu_s": cpu, "wall_s": wall}


def _child(role: str, tree: str, url: str, args: argparse.Namespace) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{tree}:{ROOT}", "CONNECT_PURE_PYTHON": "1"}
    cmd = [sys.executable, "-m", "bench.cluster_cpu", "--role", role, "--url", url]
    if args.profile:
        out = Path(args.profile) / f"{role}-{Path(tree).parent.name}.txt"
        spy = Path(sys.executable).parent / "py-spy"
        cmd = [str(spy), "record", "-r", "500", "-f", "raw", "-o", str(out), "--", *cmd]
    cmd += ["--pairs", str(args.pairs), "--lines", str(args.lines), "--rate", str(args.rate)]
    cmd += ["--burst", str(args.burst)]
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    ready = proc.stdout.readline().strip()
    while not ready or ready.startswith("py-spy>"):
        ready = proc.stdout.readline().strip()
    if ready != "ready":
        proc.kill()
        raise RuntimeError(f"{role} did not start: {ready!r}")
    return proc


def _one(tree: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    import redis

    redis.Redis.from_url(url).flushall()
    receiver = _child("receiver", tree, url, args)
    sender = _child("sender", tree, url, args)
    try:
        for proc in (receiver, sender):
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        out = {}
        for name, proc in (("sender", sender), ("receiver", receiver)):
            stdout, _ = proc.communicate(timeout=180)
            out[name] = json.loads(next(x for x in stdout.splitlines()[::-1] if x[:1] == "{"))
        return out
    finally:
        for proc in (receiver, sender):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", default=[], help="NAME=path/to/src")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument(
        "--burst", type=int, default=0, help="send N lines at once, then wait (not paced)"
    )
    parser.add_argument("--role", choices=("receiver", "sender"))
    parser.add_argument("--url")
    parser.add_argument("--profile", help="a directory: py-spy both processes (raw stacks)")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if args.role == "receiver":
        print(json.dumps(asyncio.run(_receiver(args.url, args.pairs, args.lines))))
        return
    if args.role == "sender":
        result = asyncio.run(_sender(args.url, args.pairs, args.lines, args.rate, args.burst))
        print(json.dumps(result))
        return
    from tests.support.services import redis_server

    trees = [t.split("=", 1) for t in args.tree] or [["here", str(ROOT / "src")]]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
        for rep in range(args.reps):
            order = trees if rep % 2 == 0 else trees[::-1]
            for name, tree in order:
                load = os.getloadavg()[0]
                got = _one(str(Path(tree).resolve()), url, args)
                per = {k: round(v["cpu_s"] / v["lines"] * 1e6, 1) for k, v in got.items()}
                rows[name].append(per)
                print(f"rep {rep + 1} {name}: µs/line {per} load {load:.2f} {got}", flush=True)
    for name, reps in rows.items():
        for role in ("sender", "receiver"):
            values = [r[role] for r in reps]
            print(f"{name} {role}: median {statistics.median(values)} µs/line {values}")


if __name__ == "__main__":
    main()
