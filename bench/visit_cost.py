"""Server instructions per visit step: token, open-hello-close, burst pair, relayed message.

Churn and burst are spent outside the relay (docs/benchmarks.md, "Churn and burst,
per visit"), and on this shared machine only instruction counts repeat well enough to
decide a change of a few percent. So this starts ``connect serve`` under callgrind
(``--instr-atstart=no``) and drives it from this process (Python clients outside
valgrind, sequential where the step is sequential), with counting switched on only
around each measured phase (``callgrind_control -z``, ``-i on``, ``-i off``, ``-d``):

- ``token``: ``POST /api/auth/token`` on one keep-alive connection, one at a time (as
  the Node client's ``fetch`` reuses its connections); ``token_new_connection``: the same,
  each on a new TCP connection (accept, request, close);
- ``open``: WebSocket upgrade on ``/ws``, ``hello`` with a fresh token, ``welcome``,
  a normal close (1000) and the server's close frame, one visitor at a time;
- ``burst``: visitors already welcomed send ``join-queue`` all at once, partners
  2i and 2i+1 sharing a unique interest (bench.load's burst); counted until the last
  ``matched`` has arrived, per pair;
- ``pingpong``: matched pairs relay ``send-message`` (then ``typing``), one message
  in flight per pair, per message.

Every phase runs once uncounted first (imports, caches, the first of each code path).
Housekeeping is put off (``CONNECT_MATCH_SWEEP_INTERVAL_S=3600``): its once-a-minute full
collection, tens of millions of instructions, otherwise lands in whichever phase it meets
(one token phase counted 1.25M per request instead of 0.65M for that reason).
User space only: the kernel's share (system calls saved or added) is not counted; say
so when a change trades system calls. The server runs some 50 times slower under
valgrind, which is why every count here is small and sequential where it can be.

    .venv/bin/python -m bench.visit_cost [--src /work/other-tree/src] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from tests.support.server import TEST_SETTINGS
from websockets.asyncio.client import ClientConnection, connect

from bench.load import BENCH_SETTINGS

STARTUP_TIMEOUT_S = 300.0
PHASE_TIMEOUT_S = 600.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Callgrind:
    """A server process under callgrind, counted phase by phase."""

    def __init__(self, proc: subprocess.Popen[bytes], out_dir: Path, keep: Path | None) -> None:
        self.proc = proc
        self.out_dir = out_dir
        self.keep = keep

    def _control(self, *args: str) -> None:
        subprocess.run(
            ["callgrind_control", *args, str(self.proc.pid)],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=120,
        )

    @contextlib.asynccontextmanager
    async def counting(self, name: str) -> Any:
        """Instructions of the body's server work: a dict whose ``"total"`` is set after."""
        result: dict[str, int] = {}
        await asyncio.to_thread(self._control, "-z")
        await asyncio.to_thread(self._control, "-i", "on")
        yield result
        await asyncio.to_thread(self._control, "-i", "off")
        before = set(self.out_dir.iterdir())
        await asyncio.to_thread(self._control, "-d")
        (dump,) = set(self.out_dir.iterdir()) - before
        totals = re.search(r"^totals: (\d+)", dump.read_text(), re.MULTILINE)
        assert totals is not None, dump
        result["total"] = int(totals.group(1))
        if self.keep is not None:
            self.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(dump, self.keep / f"callgrind.{name}")


@contextlib.contextmanager
def server(
    src: Path, data_dir: Path, env_extra: dict[str, str], keep: Path | None = None
) -> Iterator[tuple[int, Callgrind]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    env.update(TEST_SETTINGS)
    env.update(BENCH_SETTINGS)
    # Housekeeping's once-a-minute full collection would land in whichever phase it met.
    env["CONNECT_MATCH_SWEEP_INTERVAL_S"] = "3600"
    env.update(env_extra)
    env["CONNECT_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(src)
    subprocess.run(
        [sys.executable, "-m", "connect", "migrate"], env=env, check=True, timeout=300,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    out_dir = data_dir / "callgrind"
    out_dir.mkdir()
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            "valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={out_dir}/cg.out",
            sys.executable, "-m", "connect", "serve", "--host", "127.0.0.1", "--port", str(port),
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError((data_dir / "server.log").read_text()[-3000:])
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.5)
        yield port, Callgrind(proc, out_dir, keep)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()


class Visitor:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, port: int, token: str) -> Visitor:
        ws = await connect(f"ws://127.0.0.1:{port}/ws", compression=None, open_timeout=120)
        await ws.send(json.dumps({"event": "hello", "data": {"token": token}}))
        visitor = cls(ws)
        await visitor.until("welcome")
        return visitor

    async def until(self, event: str) -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(await self.ws.recv())
            if frame.get("event") == event:
                return frame
            if frame.get("event") == "error" or frame.get("ok") is False:
                raise RuntimeError(f"waiting for {event}: {frame}")

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        await self.ws.send(json.dumps({"event": event, "data": data}))


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120)
        self.devices = 0

    async def token(self, fresh: bool = False) -> str:
        """A guest token; ``fresh``: on a new connection (closed after), else on the kept one."""
        self.devices += 1
        body = {"deviceId": f"bench{os.getpid()}x{self.devices:06d}"}
        if fresh:
            async with httpx.AsyncClient(base_url=str(self.http.base_url), timeout=120) as once:
                reply = await once.post("/api/auth/token", json=body)
        else:
            reply = await self.http.post("/api/auth/token", json=body)
        reply.raise_for_status()
        token: str = reply.json()["token"]
        return token

    async def tokens(self, n: int) -> list[str]:
        return [await self.token() for _ in range(n)]

    async def open_hello_close(self, token: str) -> None:
        visitor = await Visitor.open(self.port, token)
        await visitor.ws.close(1000)

    async def visitors(self, n: int) -> list[Visitor]:
        return [await Visitor.open(self.port, t) for t in await self.tokens(n)]

    async def burst(self, visitors: list[Visitor], tag: str) -> None:
        for i, v in enumerate(visitors):
            await v.emit("join-queue", {"mode": "text", "interests": [f"{tag}p{i >> 1}"]})
        await asyncio.gather(*(v.until("matched") for v in visitors))

    async def pingpong(self, visitors: list[Visitor], rounds: int, typing: bool) -> None:
        send, receive = ("typing", "typing") if typing else ("send-message", "message")
        data = {"active": True} if typing else {"text": "ping"}

        async def pair(a: Visitor, b: Visitor) -> None:
            for _ in range(rounds):
                await a.emit(send, data)
                await b.until(receive)
                await b.emit(send, data)
                await a.until(receive)

        await asyncio.gather(
            *(pair(visitors[i], visitors[i + 1]) for i in range(0, len(visitors), 2))
        )


async def _phase(
    cg: Callgrind, name: str, units: int, body: Callable[[], Awaitable[None]], out: dict[str, Any]
) -> None:
    async with cg.counting(name) as counted:
        await asyncio.wait_for(body(), PHASE_TIMEOUT_S)
    out[name] = round(counted["total"] / units)
    print(f"{name}: {out[name]:,} instructions per unit ({units} units)", file=sys.stderr)


async def drive(port: int, cg: Callgrind, sizes: dict[str, int]) -> dict[str, Any]:
    client = Client(port)
    out: dict[str, Any] = {}
    n_token, n_open, n_burst, n_pairs, rounds = (
        sizes["tokens"], sizes["opens"], sizes["burst"], sizes["pairs"], sizes["rounds"],
    )  # fmt: skip
    # Warm-up: every step once, uncounted.
    for t in await client.tokens(5):
        await client.open_hello_close(t)
    warm = await client.visitors(20)
    await client.burst(warm, "warm")
    await client.pingpong(warm, 5, typing=False)
    await client.pingpong(warm, 5, typing=True)
    for v in warm:
        await v.ws.close(1000)

    async def token_requests() -> None:
        await client.tokens(n_token)

    await _phase(cg, "token", n_token, token_requests, out)

    async def token_connections() -> None:
        for _ in range(n_token):
            await client.token(fresh=True)

    await _phase(cg, "token_new_connection", n_token, token_connections, out)
    tokens = await client.tokens(n_open)

    async def opens() -> None:
        for t in tokens:
            await client.open_hello_close(t)

    await _phase(cg, "open_hello_close", n_open, opens, out)
    visitors = await client.visitors(n_burst)
    await _phase(cg, "burst_pair", n_burst // 2, lambda: client.burst(visitors, "b"), out)
    pairs = visitors[: n_pairs * 2]
    messages = n_pairs * rounds * 2
    await _phase(cg, "send_message", messages, lambda: client.pingpong(pairs, rounds, False), out)
    await _phase(cg, "typing", messages, lambda: client.pingpong(pairs, rounds, True), out)
    for v in visitors:
        await v.ws.close(1000)
    await client.http.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--opens", type=int, default=40)
    parser.add_argument("--burst", type=int, default=200, help="visitors (even)")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    parser.add_argument("--keep", type=Path, help="copy each phase's callgrind dump here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = {
        "tokens": min(args.tokens, 1000),
        "opens": min(args.opens, 1000),
        "burst": min(args.burst - args.burst % 2, 4000),
        "pairs": min(args.pairs, args.burst // 2, 200),
        "rounds": min(args.rounds, 200),
    }
    extra = dict(item.split("=", 1) for item in args.env)
    with (
        tempfile.TemporaryDirectory() as tmp,
        server(args.src, Path(tmp), extra, args.keep) as (port, cg),
    ):
        result = asyncio.run(drive(port, cg, sizes))
    result["src"] = str(args.src)
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
