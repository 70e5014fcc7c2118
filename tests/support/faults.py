"""Fault injection for the cluster suites: a Redis the test can stop, restart on the same
port and pause; a gateway client that resumes by itself; the log checks every fault ends
with.

Everything started here is stopped by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

from tests.support.client import Peer
from tests.support.http import loopback_client
from tests.support.server import Server
from tests.support.services import REDIS, _stop, _wait_port, missing


def stable_port() -> int:
    """A free loopback port below the kernel's ephemeral range.

    A server restarted "on the same port" leaves that port free while it is down; one
    from the ephemeral range (what :func:`free_port` hands out, and what every outgoing
    connection uses) can be taken meanwhile by another test's server, and the nodes would
    then talk to a stranger's Redis.
    """
    for _ in range(200):
        port = random.randrange(20_000, 32_000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


class RedisProcess:
    """One ``redis-server`` on a fixed loopback port, with an append-only file (fsync on
    every write) so that a SIGTERM restart keeps the data, as a production Redis with
    persistence does; ``persist=False`` makes a restart lose everything."""

    def __init__(self, tmp: Path, *, persist: bool = True) -> None:
        if REDIS is None:
            missing("redis-server is not installed (apt-get install -y redis-server)")
        self.tmp = tmp
        self.persist = persist
        self.port = stable_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.paused = False
        tmp.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS is not None
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else []
        self.proc = subprocess.Popen(
            [
                REDIS,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *(persistence or ["--appendonly", "no"]),
                "--dir",
                str(self.tmp),
            ],
            stdout=(self.tmp / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        _wait_port(self.port, self.proc)
        # The server answering on the port must be this one, not whoever took the port.
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"INFO server\r\n")
            info = b""
            while b"process_id:" not in info or not info.endswith(b"\r\n\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                info += chunk
        assert f"process_id:{self.proc.pid}\r\n".encode() in info, "port taken by another"

    def stop(self) -> None:
        """SIGTERM (Redis finishes its append-only file) and wait for the exit."""
        if self.proc is not None:
            if self.paused:
                self.resume()
            _stop(self.proc)

    def wipe(self) -> None:
        """Forget the data of a stopped server: the next start is an empty Redis."""
        assert self.proc is None or self.proc.poll() is not None, "stop() first"
        shutil.rmtree(self.tmp / "appendonlydir", ignore_errors=True)
        (self.tmp / "dump.rdb").unlink(missing_ok=True)

    def pause(self) -> None:
        """SIGSTOP: connections stay open, nothing is answered (a stall)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def close(self) -> None:
        self.stop()


@contextlib.contextmanager
def redis_process(tmp: Path, *, persist: bool = True) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp, persist=persist)
    server.start()
    try:
        yield server
    finally:
        server.close()


def tracebacks(server: Server) -> list[str]:
    """The lines of the server's log that start or report an unhandled exception."""
    return [
        line
        for line in server.log().splitlines()
        if "Traceback" in line or "exception was never retrieved" in line
    ]


async def ready(server: Server) -> int:
    """``/health/ready``'s status (0 when the node does not answer within 3 s)."""
    try:
        async with loopback_client(base_url=server.http, timeout=3.0) as http:
            return (await http.get("/health/ready")).status_code
    except httpx.HTTPError:
        return 0


class ResilientPeer:
    """A gateway client that resumes by itself whenever its socket ends, as the web app
    does: every frame it received over all its sockets is kept, in order."""

    def __init__(self, ws_url: str, token: str) -> None:
        self.ws_url = ws_url
        self.token = token
        self.peers: list[Peer] = []
        self.closes: list[int | None] = []
        self.resumes = 0
        self.fresh = 0  # hellos that did not get the place back
        self._stopping = False
        self._watch: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    @classmethod
    async def connect(cls, ws_url: str, token: str) -> ResilientPeer:
        me = cls(ws_url, token)
        me.peers.append(await Peer.connect(ws_url, token))
        me._connected.set()
        me._watch = asyncio.get_running_loop().create_task(me._keep())
        return me

    @property
    def peer(self) -> Peer:
        return self.peers[-1]

    @property
    def welcome(self) -> dict[str, Any]:
        return self.peer.welcome

    async def _keep(self) -> None:
        while not self._stopping:
            code, _ = await asyncio.shield(self.peer.closed)
            if self._stopping:
                return
            self._connected.clear()
            self.closes.append(code)
            delay = 0.1
            while not self._stopping:
                try:
                    peer = await Peer.connect(
                        self.ws_url, self.token, resume=self.peer.welcome["resumeToken"]
                    )
                except (OSError, TimeoutError, AssertionError, websockets.WebSocketException):
                    await asyncio.sleep(delay)  # reconnect backoff, as a client does
                    delay = min(delay * 2, 1.0)
                    continue
                if peer.welcome.get("resumed"):
                    self.resumes += 1
                else:
                    self.fresh += 1
                self.peers.append(peer)
                self._connected.set()
                break

    async def request(
        self, event: str, data: dict[str, Any], timeout: float = 30.0
    ) -> dict[str, Any] | None:
        """Send one request on the current socket and wait for its ack; None when the
        socket ended first (the outcome is unknown to the client)."""
        async with asyncio.timeout(timeout):
            await self._connected.wait()
        peer = self.peer
        frame_id = next(peer._ids)
        try:
            await peer.send_raw(
                orjson.dumps({"event": event, "data": data, "id": frame_id}).decode()
            )
            return await peer.take(lambda f: f.get("ack") == frame_id, event, timeout)
        except (AssertionError, websockets.ConnectionClosed):
            return None

    def events(self, name: str) -> list[dict[str, Any]]:
        return [f["data"] for p in self.peers for f in p.inbox if f.get("event") == name]

    async def close(self) -> None:
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for peer in self.peers:
            with contextlib.suppress(Exception):
                await peer.close()


async def until(check: Any, timeout: float, what: str, every: float = 0.1) -> float:
    """Poll the coroutine function ``check`` until it returns true; the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(every)  # polling a condition, bounded by the deadline
