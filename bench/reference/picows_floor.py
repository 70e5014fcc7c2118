"""Python floor: the Node floor's relay (floor_server.mjs + matchmaker.mjs) in Python.

picows on uvloop with orjson, one callback per frame and nothing else: no
tasks, tokens, validation, limits, filter, transcript, resume or metrics.
It measures what the platform Connect is built on costs for the same JSON
relay, so a Connect figure can be split into "Python's floor" and "Connect's
own work". Not a default bench target (``bench.load --target pyfloor``).

    PORT=... .venv/bin/python bench/reference/picows_floor.py
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
import uuid
from typing import Any

import orjson
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

_sessions = itertools.count(1)
_ids = itertools.count(1)


class Client(WSListener):
    __slots__ = ("criteria", "id", "partner", "peer_id", "queued", "tag", "ws")

    def __init__(self) -> None:
        self.ws: WSTransport | None = None
        self.partner: Client | None = None
        self.peer_id = ""
        self.criteria: dict[str, Any] = {}
        self.tag = ""
        self.queued = False
        self.id = f"c{next(_ids)}"

    def send(self, event: str, data: dict[str, Any]) -> None:
        if self.ws is not None:
            self.ws.send(WSMsgType.TEXT, orjson.dumps({"event": event, "data": data}))

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.ws = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
            return
        if frame.msg_type is not WSMsgType.TEXT:
            return
        try:
            msg = orjson.loads(frame.get_payload_as_bytes())
            event, data = msg.get("event"), msg.get("data") or {}
        except (orjson.JSONDecodeError, AttributeError):
            self.send("error", {"code": "invalid_frame", "message": "not JSON"})
            return
        if event == "hello":
            self.send("welcome", {"connectionId": self.id, "resumed": False})
        elif event == "join-queue":
            MATCHMAKER.join(self, data)
        elif event == "leave-queue":
            MATCHMAKER.leave(self)
        elif event == "next":
            MATCHMAKER.next(self)
        elif event == "send-message":
            MATCHMAKER.relay(self, data)
        elif event == "typing":
            MATCHMAKER.typing(self, data)
        elif event == "ping":
            self.send("pong", {})
        else:
            self.send("error", {"code": "unknown_event", "message": "unknown event"})

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        MATCHMAKER.disconnect(self)
        self.ws = None


class Matchmaker:
    """matchmaker.mjs line for line: FIFO per first interest."""

    def __init__(self) -> None:
        self.waiting: dict[str, dict[Client, None]] = {}

    def join(self, c: Client, data: dict[str, Any]) -> None:
        if c.partner is not None:
            c.send("error", {"code": "already_in_session", "message": "in a session"})
            return
        if c.queued:
            c.send("error", {"code": "already_queued", "message": "already queued"})
            return
        c.criteria = data
        interests = data.get("interests")
        tag = str(interests[0]) if isinstance(interests, list) and interests else ""
        waiting = self.waiting.get(tag)
        if waiting:
            other = next(iter(waiting))
            del waiting[other]
            if not waiting:
                del self.waiting[tag]
            other.queued = False
            self.pair(other, c, tag)
            return
        self.waiting.setdefault(tag, {})[c] = None
        c.queued = True
        c.tag = tag
        c.send("queued", {"since": int(time.time() * 1000)})

    def pair(self, a: Client, b: Client, tag: str) -> None:
        session_id = f"s{next(_sessions)}"
        a.partner, b.partner = b, a
        a.peer_id, b.peer_id = str(uuid.uuid4()), str(uuid.uuid4())
        mode = a.criteria.get("mode", "text")
        common = [tag] if tag else []
        a.send(
            "matched",
            {"sessionId": session_id, "peerId": b.peer_id, "initiator": True, "mode": mode,
             "commonInterests": common},
        )  # fmt: skip
        b.send(
            "matched",
            {"sessionId": session_id, "peerId": a.peer_id, "initiator": False, "mode": mode,
             "commonInterests": common},
        )  # fmt: skip

    def leave(self, c: Client) -> None:
        if not c.queued:
            return
        waiting = self.waiting.get(c.tag)
        if waiting is not None:
            waiting.pop(c, None)
            if not waiting:
                del self.waiting[c.tag]
        c.queued = False

    def end(self, c: Client, reason: str) -> None:
        p = c.partner
        if p is None:
            return
        c.partner = p.partner = None
        p.send("peer-ended", {"reason": reason})

    def next(self, c: Client) -> None:
        self.end(c, "skipped")
        if c.criteria and not c.queued:
            self.join(c, c.criteria)

    def relay(self, c: Client, data: dict[str, Any]) -> None:
        p = c.partner
        if p is None:
            c.send("error", {"code": "not_in_session", "message": "not in a session"})
            return
        text = data.get("text") if isinstance(data.get("text"), str) else ""
        p.send("message", {"from": c.peer_id, "text": text, "ts": int(time.time() * 1000)})

    def typing(self, c: Client, data: dict[str, Any]) -> None:
        p = c.partner
        if p is None:
            c.send("error", {"code": "not_in_session", "message": "not in a session"})
            return
        p.send("typing", {"from": c.peer_id, "active": bool(data.get("active"))})

    def disconnect(self, c: Client) -> None:
        self.leave(c)
        self.end(c, "disconnected")


MATCHMAKER = Matchmaker()


def listener(request: WSUpgradeRequest) -> WSListener | None:
    return Client() if request.path.split(b"?", 1)[0] == b"/ws" else None


async def main() -> None:
    server = await ws_create_server(listener, "127.0.0.1", int(os.environ.get("PORT", "0")))
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"listening {port}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    uvloop.run(main())
