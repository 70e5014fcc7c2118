"""The fast WebSocket engine: picows frames under uvicorn's HTTP server.

uvicorn keeps serving HTTP (REST, health, the web app) and hands every
WebSocket upgrade to the protocol class given as its ``ws`` option. Instead
of one of uvicorn's ASGI WebSocket protocols, :class:`WebSocketEngine`
gives it a picows protocol: frames are parsed and written in Cython, each
text frame goes straight into the socket's :class:`~connect.gateway.link.Link`,
and a frame the gateway writes goes straight to the kernel. Measured with
``bench/`` (docs/benchmarks.md), the ASGI layer and its per-frame message
dictionaries, queues and writer tasks were more than half of the server's
CPU per relayed message; this engine removes them.

What uvicorn's WebSocket protocols did and this module does instead:

- **Upgrade**: only ``/ws`` is upgraded; other paths get 404. picows checks
  the handshake headers and answers 101. A new connection first meets
  :class:`~connect.gateway.handover.FirstRead` (uvicorn's ``http`` protocol
  class): when its first read
  is a whole ``GET /ws`` upgrade request, that goes to picows at once; anything
  else goes to uvicorn's own HTTP protocol, as before, which hands a WebSocket
  upgrade (another path, or one that arrived in pieces) to picows after
  parsing it. Without this every gateway upgrade was parsed twice, by
  httptools through Python callbacks per header and then by picows
  (docs/benchmarks.md, "Fourth session: per visit").
- **Fragmented messages** are reassembled, bounded by the same size limit
  as whole frames (four times ``max_frame_bytes``: above it picows closes with
  1009; between ``max_frame_bytes`` and that, the endpoint closes with 4009).
- **Heartbeat**: one task for the whole node instead of one per socket.
  Every ``heartbeat_s`` it looks at every socket; one that sent nothing for
  a whole interval gets a WebSocket ping, and one that still sent nothing
  (not even the pong) an interval later is dropped as dead (close code
  1006: its place is kept for a resume).
- **Graceful shutdown**: the protocols register with uvicorn's server
  state, so on SIGTERM uvicorn closes them with 1012 and waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import structlog
from picows import (
    WSAutoPingStrategy,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
)
from picows.picows import WSProtocol  # type: ignore[attr-defined]

from connect.gateway import close_codes
from connect.gateway.endpoint import GatewayEndpoint
from connect.gateway.link import Link
from connect.geo.service import proxy_country
from connect.identity.service import client_ip
from connect.settings import Settings

log = structlog.get_logger(__name__)

PATH = b"/ws"
TEXT = WSMsgType.TEXT
BINARY = WSMsgType.BINARY
CONTINUATION = WSMsgType.CONTINUATION
CLOSE = WSMsgType.CLOSE
# How long a closed socket waits for the client's close frame before dropping TCP.
CLOSE_TIMEOUT_S = 2.0

# picows names a child logging.Logger per connection unless given something
# else that logs; an adapter keeps its (info-level) connection lines out of
# the way at no cost per socket.
_picows_log = logging.LoggerAdapter(logging.getLogger("connect.gateway.picows"), {})
logging.getLogger("connect.gateway.picows").setLevel(logging.WARNING)


def _send_close(ws: WSTransport, code: int, reason: bytes = b"") -> None:
    """picows types close codes as its enum; the gateway's own (4001...) go out as they are."""
    ws.send_close(code, reason)  # type: ignore[arg-type]


class PicowsTransport:
    """:class:`~connect.gateway.link.Transport` over a picows ``WSTransport``."""

    __slots__ = ("_raw", "_sock", "_ws")

    def __init__(self, ws: WSTransport, sock: _Socket) -> None:
        self._ws = ws
        self._raw = ws.underlying_transport
        self._sock = sock

    def send_text(self, text: str) -> None:
        self._ws.send(TEXT, text.encode())

    def buffered(self) -> int:
        return int(self._raw.get_write_buffer_size())

    def close(self, code: int, reason: str) -> None:
        self._sock.close(code, reason)

    def abort(self) -> None:
        self._ws.disconnect(graceful=False)


class _Socket(WSListener):
    """One upgraded connection: frames to its link, liveness to the heartbeat.

    Closing follows the WebSocket closing handshake (RFC 6455, 7.1): the
    side that closes sends its close frame, then waits for the other's
    before it drops the TCP connection, for at most ``CLOSE_TIMEOUT_S``.
    Dropping at once loses the close frame whenever the client is still
    sending: the kernel answers data arriving at a closed socket with a
    reset, and the client discards what it had not yet read.
    """

    __slots__ = (
        "_code",
        "_engine",
        "_linger",
        "_parts",
        "_parts_size",
        "link",
        "pinged",
        "seen",
        "ws",
    )

    def __init__(self, engine: WebSocketEngine) -> None:
        self._engine = engine
        self._code = close_codes.ABNORMAL
        self._linger: asyncio.TimerHandle | None = None
        self._parts: list[bytes] | None = None
        self._parts_size = 0
        self.link: Link | None = None
        self.ws: WSTransport | None = None
        self.seen = engine.round
        self.pinged = 0

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.ws = transport
        self.link = self._engine.opened(self, transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        self.seen = self._engine.round
        link = self.link
        if link is None:
            return
        kind = frame.msg_type
        if kind is CLOSE:
            code = frame.get_close_code().value
            if self._linger is None:
                self._code = code or 1005
                _send_close(transport, close_codes.NORMAL if code in (0, 1005) else code)
            transport.disconnect(graceful=True)
        elif self._linger is not None:
            return  # closing: what the client still sends is not read
        elif kind is TEXT and frame.fin:
            try:
                text = frame.get_payload_as_utf8_text()
            except UnicodeDecodeError:
                self._protocol_error(close_codes.INVALID_TEXT, "frame is not UTF-8")
                return
            link.received(text)  # may run the frame's handler: outside the decode's try
        elif kind is CONTINUATION or not frame.fin:
            self._fragment(frame, kind)
        elif kind is BINARY:
            link.received(frame.get_payload_as_bytes())

    def _fragment(self, frame: WSFrame, kind: WSMsgType) -> None:
        """Collect a fragmented message (text or binary) up to the size limit."""
        if kind is not CONTINUATION:
            if self._parts is not None:
                self._protocol_error(1002, "new message inside a fragmented one")
                return
            self._parts = [b"T" if kind is TEXT else b"B"]
            self._parts_size = 0
        elif self._parts is None:
            self._protocol_error(1002, "continuation without a message")
            return
        payload = frame.get_payload_as_bytes()
        self._parts_size += len(payload)
        if self._parts_size > self._engine.max_message:
            self._protocol_error(1009, "message too big")
            return
        self._parts.append(payload)
        if not frame.fin:
            return
        kind_tag, *chunks = self._parts
        self._parts = None
        whole = b"".join(chunks)
        assert self.link is not None
        if kind_tag == b"T":
            try:
                text = whole.decode()
            except UnicodeDecodeError:
                self._protocol_error(close_codes.INVALID_TEXT, "frame is not UTF-8")
                return
            self.link.received(text)
        else:
            self.link.received(whole)

    def _protocol_error(self, code: int, reason: str) -> None:
        self._parts = None
        self.close(code, reason)

    def close(self, code: int, reason: str) -> None:
        """Send a close frame now; drop the connection on the client's answer or the timeout."""
        ws = self.ws
        if ws is None or self._linger is not None:
            return
        self._code = code
        _send_close(ws, code, reason.encode())
        self._linger = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, ws.disconnect, False)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self._linger is not None:
            self._linger.cancel()
        self._engine.closed(self)
        if self.link is not None:
            self.link.received(self._code)

    def check(self, now: int) -> None:
        """Heartbeat round ``now``: ping a socket silent for a whole round, drop it one later."""
        if self.seen >= now - 1:
            self.pinged = 0
        elif not self.pinged:
            self.pinged = now
            if self.ws is not None:
                self.ws.send_ping()
        elif self.ws is not None:
            log.debug("gateway_heartbeat_lost")
            self.ws.disconnect(graceful=False)

    def shutdown(self) -> None:
        self.close(close_codes.SHUTTING_DOWN, "server shutting down")


class _UvicornProtocol(WSProtocol):  # type: ignore[misc]
    """picows' server protocol, shaped as uvicorn's ``ws`` protocol class expects."""

    def __init__(self, engine: WebSocketEngine, server_state: Any) -> None:
        super().__init__(
            None,  # host:port (client side only)
            None,  # path (client side only)
            False,  # server side
            engine.listener_for,
            _picows_log,
            True,  # a listener that raises disconnects its socket
            engine.handshake_timeout_s,
            False,  # per-socket auto-ping: the engine's heartbeat does this for all
            0.0,
            0.0,
            WSAutoPingStrategy.PING_WHEN_IDLE,
            True,  # answer pings
            engine.max_message,
            None,
            2048,
        )
        self._server_state = server_state

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._server_state.connections.add(self)
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        """The upgrade request, which uvicorn replays before handing the socket over."""
        view = memoryview(data)
        while view:
            buffer = self.get_buffer(len(view))
            n = min(len(buffer), len(view))
            buffer[:n] = view[:n]
            self.buffer_updated(n)
            view = view[n:]

    def connection_lost(self, exc: Exception | None) -> None:
        self._server_state.connections.discard(self)
        super().connection_lost(exc)

    def shutdown(self) -> None:
        listener = self.listener
        if isinstance(listener, _Socket):
            listener.shutdown()
        else:
            self.transport.disconnect(graceful=False)


class WebSocketEngine:
    """Serves ``/ws`` through picows; owns the node-wide heartbeat."""

    def __init__(self, endpoint: GatewayEndpoint, settings: Settings) -> None:
        self._endpoint = endpoint
        self._s = settings
        self._sockets: set[_Socket] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self.max_message = settings.max_frame_bytes * 4
        self.handshake_timeout_s = settings.hello_timeout_s
        self.round = 1

    def uvicorn_protocol(self, config: Any, server_state: Any, app_state: Any) -> WSProtocol:
        """The callable uvicorn's ``ws`` option takes (it calls it like a class)."""
        return _UvicornProtocol(self, server_state)

    def uvicorn_http(self) -> Callable[..., asyncio.Protocol]:
        """What uvicorn's ``http`` option takes: :class:`~connect.gateway.handover.FirstRead`
        before its own protocol."""
        from uvicorn.protocols.http.auto import AutoHTTPProtocol

        from connect.gateway.handover import FirstRead

        def first_read(
            config: Any,
            server_state: Any,
            app_state: Any,
            _loop: asyncio.AbstractEventLoop | None = None,
        ) -> asyncio.Protocol:
            return FirstRead(self, AutoHTTPProtocol, config, server_state, app_state, _loop)

        return first_read

    def listener_for(self, request: WSUpgradeRequest) -> WSListener | None:
        if request.path.split(b"?", 1)[0] != PATH:
            return None
        return _Socket(self)

    def opened(self, sock: _Socket, ws: WSTransport) -> Link | None:
        self._sockets.add(sock)
        peer = ws.underlying_transport.get_extra_info("peername")
        forwarded = ws.request.headers.get("x-forwarded-for")
        ip = client_ip(peer[0] if peer else None, forwarded, self._s.trusted_proxies)
        hint = None
        if self._s.geoip_header:
            hint = proxy_country(
                peer[0] if peer else None,
                ws.request.headers.get(self._s.geoip_header.lower()),
                self._s.trusted_proxies,
            )
        return self._endpoint.open(PicowsTransport(ws, sock), ip, hint)

    def closed(self, sock: _Socket) -> None:
        self._sockets.discard(sock)

    def start(self) -> None:
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._s.heartbeat_s)
            self.round += 1
            for sock in list(self._sockets):
                sock.check(self.round)
