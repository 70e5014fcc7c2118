"""The one way services send something to a client's socket.

Services never touch sockets: they name a client id and an event. On one
node the gateway's hub queues the frame on the local socket; in a cluster an
implementation routes it to the node that holds the client. Delivery is
fire-and-forget by design: a client that is gone or too slow is the
gateway's concern (resume buffer, disconnect), never the sender's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Deliverer(Protocol):
    def deliver(self, client_id: str, event: str, data: Mapping[str, Any]) -> bool:
        """Queue ``event`` for ``client_id``; return False when nobody holds that id."""
        ...

    def deliver_subject(self, subject: str, event: str, data: Mapping[str, Any]) -> int:
        """Queue ``event`` for every connection of ``subject`` (all of a user's devices)."""
        ...


NOT_IN_SESSION = "not in a session: nothing to relay to"
WRONG_MODE = "this is a text session: no media signaling"


class PartnerRelay(Protocol):
    """Relays to a client's session partner where the sessions live in shared storage
    (a cluster): the partner is found, and the frame routed, in one atomic step."""

    async def to_partner(
        self,
        client_id: str,
        event: str,
        data: Mapping[str, Any],
        *,
        transcript: bool = False,
        media: bool = False,
    ) -> str:
        """Send ``event`` with ``{"from": <sender's peerId>, **data}`` to the partner of
        ``client_id``'s live session; with ``transcript`` append it to the session's
        transcript in the same step. Return the session's mode; raise ``ConnectError``
        ``not_in_session``, ``wrong_mode`` (``media`` in a text session) or
        ``unavailable``."""
        ...
