"""A Redis that fails over, for real: a primary, a replica (``--replicaof``) and three
``redis-server --sentinel`` processes with a generated sentinel.conf each, all on free
loopback ports, stopped by their PIDs.

Sentinel judges the primary down after ``DOWN_AFTER_MS`` without an answer and promotes
the replica once two of the three agree (quorum 2), as a production deployment does,
only with shorter timers.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from tests.support.faults import stable_port
from tests.support.services import REDIS, _stop, _wait_port, missing, redis_args

MASTER = "connect-test"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000
SETTLE_S = 30.0  # bound on the Sentinels finding each other and the replica syncing


class SentinelRedis:
    """The whole set; ``primary``/``replica`` are the processes as started (after a
    failover the replica is the primary: ask :meth:`master_port`)."""

    def __init__(self, tmp: Path) -> None:
        if REDIS is None:
            missing("redis-server is not installed (apt-get install -y redis-server)")
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.primary_port = stable_port()
        self.replica_port = stable_port()
        self.sentinel_ports = [stable_port() for _ in range(3)]
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def sentinels(self) -> str:
        """``CONNECT_REDIS_SENTINELS``."""
        return ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)

    def _spawn(self, name: str, args: list[str], port: int) -> None:
        assert REDIS is not None
        proc = subprocess.Popen(
            [REDIS, *args],
            stdout=(self.tmp / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.procs[name] = proc
        _wait_port(port, proc)

    def _data_node(self, name: str, port: int, *extra: str) -> None:
        (self.tmp / name).mkdir(exist_ok=True)
        self._spawn(name, [*redis_args(port, self.tmp / name), *extra], port)

    def start(self) -> None:
        self._data_node("primary", self.primary_port)
        self._data_node(
            "replica", self.replica_port, "--replicaof", "127.0.0.1", str(self.primary_port)
        )
        for i, port in enumerate(self.sentinel_ports):
            conf = self.tmp / f"sentinel{i}.conf"  # Sentinel rewrites its file: one each
            conf.write_text(
                f"port {port}\n"
                "bind 127.0.0.1\n"
                f"dir {self.tmp}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            self._spawn(f"sentinel{i}", [str(conf), "--sentinel"], port)
        self._settle()

    def _settle(self) -> None:
        """Until every Sentinel knows the two others and the replica, and the replica is
        in sync (a failover before that would promote an empty replica)."""
        deadline = time.monotonic() + SETTLE_S
        while True:
            if self._settled():
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the Sentinels did not settle: " + self.logs())
            time.sleep(0.1)  # polling Sentinel's view, bounded by the deadline

    def _settled(self) -> bool:
        for port in self.sentinel_ports:
            with _client(port) as s:
                state = s.sentinel_master(MASTER)
                if int(state["num-other-sentinels"]) < 2 or int(state["num-slaves"]) < 1:
                    return False
        with _client(self.replica_port) as r:
            info = r.info("replication")
            return bool(info.get("master_link_status") == "up")

    def master_port(self, sentinel: int = 0) -> int:
        with _client(self.sentinel_ports[sentinel]) as s:
            _, port = s.sentinel_get_master_addr_by_name(MASTER)
            return int(port)

    def kill_primary(self) -> None:
        """SIGKILL: no goodbye, sockets reset; Sentinel must notice by itself."""
        proc = self.procs["primary"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def freeze_primary(self) -> None:
        """SIGSTOP: connections stay open, nothing answers (a paused VM, a partition)."""
        self.procs["primary"].send_signal(signal.SIGSTOP)

    def thaw_primary(self) -> None:
        self.procs["primary"].send_signal(signal.SIGCONT)

    def role(self, port: int) -> str:
        """``master`` or ``slave``, as the server at ``port`` sees itself."""
        with _client(port) as r:
            return str(r.info("replication")["role"])

    def clients_named(self, port: int, name: str) -> int:
        """How many connections of the server at ``port`` carry the client name ``name``."""
        with _client(port) as r:
            return sum(1 for c in r.client_list() if c.get("name") == name)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted(self.tmp.glob("*.log"))
        )

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # a frozen one must be able to exit
            _stop(proc)


def _client(port: int) -> redis.Redis:
    return redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)


@contextlib.contextmanager
def sentinel_redis(tmp: Path) -> Iterator[SentinelRedis]:
    rig = SentinelRedis(tmp)
    try:
        rig.start()
        yield rig
    finally:
        rig.stop()
