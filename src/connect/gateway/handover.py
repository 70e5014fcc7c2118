"""A new connection's first read: the gateway's upgrade straight to picows, the rest to uvicorn.

Split from :mod:`connect.gateway.websocket` (the engine and its sockets), which hands
uvicorn :meth:`~connect.gateway.websocket.WebSocketEngine.uvicorn_http`; why a connection
is decided at its first read is said there, under "Upgrade".
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connect.gateway.websocket import _UvicornProtocol

if TYPE_CHECKING:
    from connect.gateway.websocket import WebSocketEngine

_UPGRADE = re.compile(rb"\r\nupgrade:[ \t]*websocket[ \t]*\r\n")
_CONNECTION = re.compile(rb"\r\nconnection:([^\r\n]*)\r\n")


def is_gateway_upgrade(data: bytes) -> bool:
    """``data`` holds a whole ``GET /ws`` request that uvicorn would upgrade.

    uvicorn upgrades a request whose ``Upgrade`` header is ``websocket`` and
    whose ``Connection`` header lists ``upgrade``; the same rule here, on the
    request line and headers (picows checks the rest of the handshake either
    way). A request not whole in the first read is left to uvicorn.
    """
    if not data.startswith(b"GET /ws") or data[7:8] not in (b" ", b"?"):
        return False
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[: end + 2].lower()
    connection = _CONNECTION.search(head)
    return (
        connection is not None
        and _UPGRADE.search(head) is not None
        and b"upgrade" in [token.strip() for token in connection.group(1).split(b",")]
    )


class FirstRead(asyncio.Protocol):
    """A new connection until its first read, then the protocol that serves it.

    The gateway's upgrade (:func:`is_gateway_upgrade`) goes straight to
    picows; anything else to uvicorn's HTTP protocol, which is created only
    then and given the read. Registered with uvicorn's server state meanwhile,
    so a shutdown closes a connection that has sent nothing yet (as uvicorn's
    own protocol does with an idle connection).
    """

    __slots__ = ("_app_state", "_config", "_engine", "_http", "_loop", "_state", "_transport")

    def __init__(
        self,
        engine: WebSocketEngine,
        http: Callable[..., Any],
        config: Any,
        server_state: Any,
        app_state: Any,
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._engine = engine
        self._http = http
        self._config = config
        self._state = server_state
        self._app_state = app_state
        self._loop = _loop
        self._transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self._transport = transport  # uvloop's transports are not asyncio.Transport subclasses
        self._state.connections.add(self)

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        self._state.connections.discard(self)
        protocol: Any
        if is_gateway_upgrade(data):
            protocol = _UvicornProtocol(self._engine, self._state)
        else:
            protocol = self._http(
                config=self._config,
                server_state=self._state,
                app_state=self._app_state,
                _loop=self._loop,
            )
        protocol.connection_made(transport)
        # Before the read: uvicorn's protocol may hand the socket on to picows inside it.
        transport.set_protocol(protocol)
        protocol.data_received(data)

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._state.connections.discard(self)

    def shutdown(self) -> None:
        if self._transport is not None:
            self._transport.close()
