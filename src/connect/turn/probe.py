"""Connect checks its own STUN and TURN servers, the way a browser would use them.

Why the app probes at all: a TURN server that is down or refuses Connect's
credentials shows up otherwise only as calls that never connect, and only for
the visitors behind NATs that need a relay. coturn's exporter says the process
runs; this probe says a browser given ``/api/ice-config`` would get a relay.

Every configured URL is probed on ``CONNECT_TURN_PROBE_INTERVAL_S``:

- ``stun:`` URLs with a STUN Binding request (the server must answer with our
  mapped address);
- ``turn:``/``turns:`` URLs with a real TURN Allocate, authenticated with a
  TURN REST credential minted by :class:`~connect.turn.service.TurnService`
  exactly as for a browser, then released at once (Refresh, lifetime 0).

The STUN and TURN messages, transactions, retransmissions and long-term
credential handling are aioice's (a dependency through aiortc); this module
only chooses what to ask, bounds it with a timeout and classifies the answer:
``ok``, ``auth_failed`` (the server answered 401/438 to our credentials: the
shared secret differs or the clock is off), ``unreachable`` (no answer within
the timeout, connection refused, name not resolved), ``rejected`` (another
STUN error, e.g. 486 quota or 508 capacity) or ``error`` (anything else).

Results go to ``connect_turn_up{url}`` (0/1), ``connect_turn_probe_seconds``
(latency of successful probes), ``connect_turn_probe_failures_total{url,
reason}``, ``/health/detailed`` and the admin overview. The loop runs as a
background task started after the app is up (it never delays start-up), each
probe bounded by ``CONNECT_TURN_PROBE_TIMEOUT_S``, and stops on cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import parse_qs, urlsplit

import structlog

from connect.clock import Clock
from connect.errors import faults
from connect.observability.metrics import Metrics
from connect.turn.schemas import TurnStatus
from connect.turn.service import TurnService

if TYPE_CHECKING:
    # aioice (with dnspython and ifaddr, about 3 MB) is imported by the first probe only:
    # a node with no TURN/STUN URL, or the probe off, never loads it.
    from aioice import stun

log = structlog.get_logger(__name__)
Reason = Literal["ok", "auth_failed", "unreachable", "rejected", "error"]
PROBE_SUBJECT = "connect-probe"
AUTH_ERRORS = (401, 438)
# Short allocation: if the release is lost, coturn frees it after this many seconds (or
# its own minimum, 600 s by default, which it applies instead).
PROBE_LIFETIME_S = 60


@dataclass(frozen=True, slots=True)
class IceUrl:
    """One ``stun:``/``stuns:``/``turn:``/``turns:`` URL (RFC 7064/7065), split up."""

    url: str
    kind: Literal["stun", "turn"]
    secure: bool
    host: str
    port: int
    transport: Literal["udp", "tcp"]


def parse_ice_url(url: str) -> IceUrl:
    """``turn:host[:port][?transport=udp|tcp]``; ``turns:`` means TLS over TCP (port 5349)."""
    scheme, _, rest = url.partition(":")
    if scheme not in ("stun", "stuns", "turn", "turns"):
        raise ValueError(f"not a STUN/TURN URL: {url!r}")
    secure = scheme.endswith("s")
    address, _, query = rest.partition("?")
    parts = urlsplit("//" + address)
    if not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    wanted = parse_qs(query).get("transport", [""])[0].lower()
    transport: Literal["udp", "tcp"] = "tcp" if secure or wanted == "tcp" else "udp"
    return IceUrl(
        url=url,
        kind="stun" if scheme.startswith("stun") else "turn",
        secure=secure,
        host=parts.hostname,
        port=parts.port or (5349 if secure else 3478),
        transport=transport,
    )


@dataclass(frozen=True, slots=True)
class ProbeResult:
    url: str
    kind: Literal["stun", "turn"]
    up: bool
    reason: Reason
    detail: str
    latency_s: float | None
    checked_at: float  # wall clock (Clock.now), for people

    def status(self) -> TurnStatus:
        """The shape of /health/detailed and the admin overview."""
        return TurnStatus(
            url=self.url,
            kind=self.kind,
            up=self.up,
            reason=self.reason,
            detail=self.detail,
            latency_ms=None if self.latency_s is None else round(self.latency_s * 1000, 1),
            checked_at=datetime.fromtimestamp(self.checked_at, UTC),
        )


class _StunClient(asyncio.DatagramProtocol):
    """The smallest sender aioice's :class:`stun.Transaction` needs: send, and route replies.

    A connected UDP socket gets ICMP "port unreachable" back as ``error_received``;
    that fails the transaction at once instead of waiting for the timeout.
    """

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.transactions: dict[bytes, stun.Transaction] = {}
        self.failure: asyncio.Future[OSError] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        from aioice import stun

        try:
            message = stun.parse_message(data)
        except ValueError:
            return
        transaction = self.transactions.get(message.transaction_id)
        if transaction is not None:
            transaction.response_received(message, addr)

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError) and not self.failure.done():
            self.failure.set_result(exc)

    def send_stun(self, message: stun.Message, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(bytes(message))


async def stun_binding(target: IceUrl) -> tuple[str, int]:
    """One STUN Binding over UDP; returns the mapped address the server saw."""
    from aioice import stun

    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(
        _StunClient, remote_addr=(target.host, target.port)
    )
    try:
        request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
        transaction = stun.Transaction(request, (target.host, target.port), client)
        client.transactions[request.transaction_id] = transaction
        answer = asyncio.ensure_future(transaction.run())
        either: set[asyncio.Future[Any]] = {answer, client.failure}
        done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if answer not in done:
            answer.cancel()
            with contextlib.suppress(asyncio.CancelledError, stun.TransactionError):
                await answer
            raise client.failure.result()
        response, _ = answer.result()
        mapped = response.attributes.get("XOR-MAPPED-ADDRESS") or response.attributes.get(
            "MAPPED-ADDRESS"
        )
        if mapped is None:
            raise ConnectionError("STUN Binding response without a mapped address")
        return cast(tuple[str, int], mapped)
    finally:
        transport.close()


class _Released(asyncio.DatagramProtocol):
    """Receives nothing; tells when aioice has released the allocation and closed."""

    def __init__(self) -> None:
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def turn_allocation(target: IceUrl, username: str, password: str) -> tuple[str, int]:
    """Allocate a relay with aioice's TURN client, then release it; returns the relayed address."""
    from aioice.turn import create_turn_endpoint

    tls: ssl.SSLContext | None = ssl.create_default_context() if target.secure else None
    transport, protocol = await create_turn_endpoint(
        _Released,
        (target.host, target.port),
        username=username,
        password=password,
        lifetime=PROBE_LIFETIME_S,
        ssl=tls,
        transport=target.transport,
    )
    relayed = cast(tuple[str, int], transport.get_extra_info("sockname"))
    transport.close()  # Refresh with lifetime 0, then the socket closes.
    await protocol.closed
    return relayed


def classify(exc: BaseException, timeout_s: float) -> tuple[Reason, str]:
    """Why a probe failed, in the few words an operator acts on."""
    from aioice import stun

    if isinstance(exc, stun.TransactionFailed):
        code, text = exc.response.attributes.get("ERROR-CODE", (0, ""))
        if code in AUTH_ERRORS:
            return "auth_failed", f"STUN {code} {text}: the server refused Connect's credentials"
        return "rejected", f"STUN {code} {text}"
    if isinstance(exc, TimeoutError | stun.TransactionTimeout):
        return "unreachable", f"no answer within {timeout_s:g} s"
    if isinstance(exc, OSError):
        return "unreachable", f"{type(exc).__name__}: {exc}"
    return "error", f"{type(exc).__name__}: {exc}"


Probe = Callable[[IceUrl], Awaitable[object]]


class TurnProbe:
    """Probes every configured STUN/TURN URL on an interval; keeps the last result of each."""

    def __init__(
        self,
        *,
        turn: TurnService,
        stun_urls: list[str],
        turn_urls: list[str],
        interval_s: float,
        timeout_s: float,
        clock: Clock,
        metrics: Metrics,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._turn = turn
        self._targets = [parse_ice_url(u) for u in [*stun_urls, *turn_urls]]
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._clock = clock
        self._metrics = metrics
        self._sleep = sleep
        self._last: dict[str, ProbeResult] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.interval_s > 0 and bool(self._targets)

    def results(self) -> list[ProbeResult]:
        """The last result per URL, in configuration order (URLs not yet probed are absent)."""
        return [self._last[t.url] for t in self._targets if t.url in self._last]

    async def _attempt(self, target: IceUrl) -> object:
        if target.kind == "stun":
            if target.secure:
                raise NotImplementedError("stuns: (STUN over TLS) is not probed")
            return await stun_binding(target)
        (server,) = [s for s in self._turn.ice_config(PROBE_SUBJECT).ice_servers if s.username]
        assert server.username is not None
        assert server.credential is not None
        return await turn_allocation(target, server.username, server.credential)

    async def probe(self, target: IceUrl) -> ProbeResult:
        started = self._clock.monotonic()
        try:
            await asyncio.wait_for(self._attempt(target), self.timeout_s)
        except Exception as exc:
            reason, detail = classify(exc, self.timeout_s)
            result = ProbeResult(
                target.url, target.kind, False, reason, detail, None, self._clock.now()
            )
        else:
            latency = max(0.0, self._clock.monotonic() - started)
            result = ProbeResult(
                target.url, target.kind, True, "ok", "", latency, self._clock.now()
            )
        self._record(result)
        return result

    def _record(self, result: ProbeResult) -> None:
        before = self._last.get(result.url)
        self._last[result.url] = result
        if before is None or before.up != result.up:
            # One line per change of state, not one per round.
            if result.up:
                log.info("turn_probe_up", url=result.url, latency_s=result.latency_s)
            else:
                log.warning(
                    "turn_probe_down", url=result.url, reason=result.reason, detail=result.detail
                )
        m = self._metrics
        m.turn_up.labels(result.url).set(1 if result.up else 0)
        if result.latency_s is not None:
            m.turn_probe_seconds.labels(result.url).observe(result.latency_s)
            m.turn_probe_latency.labels(result.url).set(result.latency_s)
        else:
            m.turn_probe_failures.labels(result.url, result.reason).inc()

    async def probe_all(self) -> list[ProbeResult]:
        """One round: every URL at once (a slow one does not delay the others)."""
        return list(await asyncio.gather(*(self.probe(t) for t in self._targets)))

    async def _run(self) -> None:
        while True:
            try:
                await self.probe_all()
            except Exception as exc:  # a bug here must not end the loop for good
                faults.report("turn-probe", exc)
            await self._sleep(self.interval_s)

    def start(self) -> None:
        """Start probing in the background (first round at once); no-op when disabled."""
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name="turn-probe")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
