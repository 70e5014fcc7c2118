"""Which deployments the load test may drive.

A load test is traffic an operator chose to send: pointed at someone else's service by a
typo it is an attack. So the target must resolve to loopback addresses only, unless the
operator says ``--allow-remote``; a host name counts as remote when *any* address it
resolves to is not loopback. The check resolves the name itself (a name like
``localhost.example.com`` proves nothing) and happens before any connection is made.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]


class TargetRefused(ValueError):
    """The URL is not one the load test may drive (phrased for the operator)."""


@dataclass(frozen=True)
class Target:
    http: str  # base URL for REST, no trailing slash
    ws: str  # the gateway's WebSocket URL
    host: str
    addresses: tuple[str, ...]
    loopback: bool


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_target(url: str, *, allow_remote: bool, resolver: Resolver = resolve) -> Target:
    """The target behind ``url`` (``http(s)://host[:port][/base]``), or TargetRefused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"--url must start with http:// or https:// (got {url!r})")
    host = parts.hostname
    if not host:
        raise TargetRefused(f"--url has no host: {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise TargetRefused("--url must not carry a query, fragment or credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused(f"--url has an invalid port: {url!r}") from None
    try:
        addresses = resolver(host, port)
    except OSError as exc:
        raise TargetRefused(f"cannot resolve {host!r}: {exc.strerror or exc}") from None
    if not addresses:
        raise TargetRefused(f"{host!r} resolves to no address")
    loopback = all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)
    if not loopback and not allow_remote:
        raise TargetRefused(
            f"{host} resolves to {', '.join(addresses)}, not only loopback: "
            "pass --allow-remote to load-test a deployment you operate"
        )
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    ws = f"{ws_scheme}://{parts.netloc}{parts.path.rstrip('/')}/ws"
    return Target(base, ws, host, tuple(addresses), loopback)
