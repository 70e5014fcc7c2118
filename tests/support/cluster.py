"""A real cluster on loopback: Redis, PostgreSQL, N app nodes and HAProxy in front.

HAProxy runs the shipped deploy/haproxy/haproxy.cfg with only what must
differ on one machine rewritten: loopback binds instead of :80, the nodes'
loopback ports instead of Docker DNS names, and no stats listener.
Everything is started and stopped by PID.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.http import loopback_get
from tests.support.server import Server, free_port, start_server
from tests.support.services import create_database, missing, postgres_server, redis_server

HAPROXY_CFG = Path(__file__).parents[2] / "deploy" / "haproxy" / "haproxy.cfg"
HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
)

CLUSTER_SETTINGS = {
    "CONNECT_TRUSTED_PROXIES": "127.0.0.1/32",
    "CONNECT_RESUME_GRACE_S": "4",
    "CONNECT_NODE_DEAD_AFTER_S": "2",
    "CONNECT_MATCH_SWEEP_INTERVAL_S": "0.5",
}


def haproxy_config(port: int, nodes: list[int]) -> str:
    text = HAPROXY_CFG.read_text()
    text = re.sub(r"\nresolvers docker\n(?:    .*\n)+", "\n", text)
    text = text.replace("    bind :80\n", f"    bind 127.0.0.1:{port}\n")
    text = text.replace(" resolvers docker init-addr last,libc,none", "")
    text = re.sub(r"\n    server app\d+ app\d+:8000", "", text)
    servers = "".join(f"\n    server node{i} 127.0.0.1:{p}" for i, p in enumerate(nodes))
    text = text.replace("    default-server ", "    default-server ", 1)
    text = re.sub(
        r"(\n    default-server [^\n]*)", r"\1" + servers.replace("\\", "\\\\"), text, count=1
    )
    text = re.sub(r"\nlisten stats\n(?:    .*\n?)+", "\n", text)
    text = text.replace("    maxconn 100000\n", "    maxconn 4000\n")  # ulimit -n is 20,000 here
    return text.replace("    log stdout format raw local0 info\n", "")


@dataclass
class Cluster:
    work: Path
    redis_url: str
    db_url: str
    extra: dict[str, str] = field(default_factory=dict)
    nodes: list[Server] = field(default_factory=list)
    proxy: subprocess.Popen[bytes] | None = None
    proxy_port: int = 0

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.proxy_port}/ws"

    def env(self) -> dict[str, str]:
        return {
            **CLUSTER_SETTINGS,
            **self.extra,
            "CONNECT_REDIS_URL": self.redis_url,
            "CONNECT_DATABASE_URL": self.db_url,
        }

    def start_node(self, index: int) -> Server:
        node = start_server(
            self.work / f"node{index}-{uuid.uuid4().hex[:6]}",
            {**self.env(), "CONNECT_NODE_ID": f"node{index}"},
        )
        if index < len(self.nodes):
            self.nodes[index] = node
        else:
            self.nodes.append(node)
        return node

    def start_proxy(self) -> None:
        if HAPROXY is None:
            missing("haproxy is not installed (apt-get install -y haproxy)")
        assert HAPROXY is not None
        self.proxy_port = free_port()
        cfg = self.work / "haproxy.cfg"
        cfg.write_text(haproxy_config(self.proxy_port, [n.port for n in self.nodes]))
        self.proxy = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(cfg)],
            stdout=subprocess.DEVNULL,
            stderr=(self.work / "haproxy.log").open("wb"),
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if loopback_get(f"{self.http}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # polling the proxy's health, bounded by the deadline
        raise RuntimeError("haproxy did not come up: " + (self.work / "haproxy.log").read_text())

    def kill(self, index: int, sig: signal.Signals) -> None:
        node = self.nodes[index]
        node.proc.send_signal(sig)
        node.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proxy is not None and self.proxy.poll() is None:
            self.proxy.terminate()
            self.proxy.wait(timeout=10)
        for node in self.nodes:
            node.stop()


def start_cluster(
    work: Path, stack: ExitStack, nodes: int = 3, settings: dict[str, str] | None = None
) -> Cluster:
    redis_url = stack.enter_context(redis_server(work / "redis"))
    pg = stack.enter_context(postgres_server(work / "pg"))
    cluster = Cluster(work, redis_url, create_database(pg, "connect_cluster"), dict(settings or {}))
    stack.callback(cluster.stop)  # registered first: a failed start still stops what started
    for i in range(nodes):
        cluster.start_node(i)
    cluster.start_proxy()
    return cluster


__all__ = ["Cluster", "signal", "start_cluster"]
