"""One WebSocket, and the client place that outlives it.

:class:`Connection` is a socket as the features see it: frames pushed to it
are written to its transport at once, with no task in between. A reader
that stops reading makes the transport's buffer grow; past
``buffer_limit`` bytes the socket is dropped (close code 4008 is recorded,
the place is kept for a resume), so a slow reader never makes a sender wait
and never grows the server's memory without bound.

:class:`Client` is the place a visitor holds in the system (queue ticket,
session membership). It survives a dropped socket for the resume grace
period; frames for it during that gap go to a bounded buffer and are
replayed when a new socket presents the resume token.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from connect.gateway import close_codes, codec
from connect.gateway.link import Transport
from connect.identity.service import Principal
from connect.ratelimit import TokenBucket

# Frames kept for a client while the server closes its socket (the close handshake,
# ``websocket.CLOSE_TIMEOUT_S`` at most); the hub's suspension then bounds them by its
# own gap size.
CLOSING_GAP_FRAMES = 256


class Connection:
    __slots__ = (
        "_closing",
        "_limit",
        "_transport",
        "bucket",
        "close_code",
        "country_hint",
        "ip",
        "ip_hash",
        "refusals",
    )

    def __init__(
        self,
        transport: Transport,
        buffer_limit: int,
        bucket: TokenBucket,
        ip_hash: str,
        ip: str = "",
        country_hint: str | None = None,
    ) -> None:
        self._transport = transport
        self._limit = buffer_limit
        self._closing = False
        self.bucket = bucket
        self.refusals = 0
        self.close_code: int | None = None
        self.ip_hash = ip_hash
        # The socket's address, in memory for the socket's life only (the
        # transport holds it anyway): range bans are checked against it. It is
        # never logged, stored or sent to another node.
        self.ip = ip
        # A trusted proxy's country header, already filtered (connect.geo.service).
        self.country_hint = country_hint

    @property
    def closing(self) -> bool:
        return self._closing

    def push(self, text: str) -> bool:
        """Write a text frame; a full buffer means the client stopped reading: drop it."""
        if self._closing:
            return False
        if self._transport.buffered() > self._limit:
            self.close(close_codes.TOO_SLOW, "send buffer full")
            return False
        self._transport.send_text(text)
        return True

    def push_event(self, event: str, data: Mapping[str, Any]) -> bool:
        return self.push(codec.event(event, data))

    def close_too_slow(self) -> None:
        self.close(close_codes.TOO_SLOW, "too many frames waiting")

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already written, or at once if the reader is stuck."""
        if self._closing:
            return
        self._closing = True
        self.close_code = code
        if self._transport.buffered() > self._limit:
            self._transport.abort()
        else:
            self._transport.close(code, reason[:120])


class Client:
    """A visitor's place in the gateway, stable across resumes."""

    __slots__ = (
        "attached",
        "conn",
        "gap",
        "gap_dropped",
        "id",
        "ip_hash",
        "principal",
        "resume_token",
        "state",
    )

    def __init__(
        self, client_id: str, principal: Principal, ip_hash: str, resume_token: str
    ) -> None:
        self.id = client_id
        self.principal = principal
        self.ip_hash = ip_hash
        self.resume_token = resume_token
        self.conn: Connection | None = None
        self.gap: deque[str] | None = None
        self.gap_dropped = 0
        self.attached = 0.0
        self.state: dict[str, Any] = {}

    @property
    def subject(self) -> str:
        """The typed subject (``guest:<device>`` / ``user:<account>``), see :class:`Principal`."""
        return self.principal.key

    @property
    def account_id(self) -> str | None:
        """The account behind this socket, None for a guest."""
        return self.principal.account_id

    def push_event(self, event: str, data: Mapping[str, Any]) -> bool:
        return self.push(codec.event(event, data))

    def push(self, text: str) -> bool:
        """Write to the socket, or keep the frame in the gap while there is none.

        A socket the server is closing (1012 after a lost delivery path, too slow) stays
        ``conn`` until its reader ends and the hub suspends the place; frames meanwhile
        go to the gap, which the suspension keeps and the resume replays: dropped, they
        were lost although their sender was told they were relayed.
        """
        conn = self.conn
        if conn is not None:
            if conn.push(text):
                return True
            if not conn.closing:
                return False
            if self.gap is None:
                self.gap = deque(maxlen=CLOSING_GAP_FRAMES)
        if self.gap is not None:
            if self.gap.maxlen is not None and len(self.gap) == self.gap.maxlen:
                self.gap_dropped += 1
            self.gap.append(text)
            return True
        return False
