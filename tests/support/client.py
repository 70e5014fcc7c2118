"""A real WebSocket client of the gateway protocol, for tests.

Frames that arrive are buffered; tests wait for a specific event or ack with
a timeout, never by sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Callable
from typing import Any

import orjson
import websockets
from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection

from connect.protocol import NACK, SERVER_EVENTS
from tests.support.http import loopback_client

WAIT_S = 5.0
CONTRACT_VIOLATIONS: list[str] = []


def check_contract(frame: dict[str, Any]) -> None:
    """Every server frame must match PROTOCOL.md's shapes as the code's schemas define them."""
    if "ack" in frame:
        ok = frame.get("ok")
        if ok is False:
            try:
                NACK.model_validate(frame)
            except ValidationError as exc:
                CONTRACT_VIOLATIONS.append(f"bad error ack: {frame}: {exc}")
        elif ok is not True:
            CONTRACT_VIOLATIONS.append(f"ack without ok: {frame}")
        return
    model = SERVER_EVENTS.get(frame.get("event", ""))
    if model is None or set(frame) != {"event", "data"}:
        CONTRACT_VIOLATIONS.append(f"unknown server frame: {frame}")
        return
    try:
        model.model_validate(frame["data"])
    except ValidationError as exc:
        CONTRACT_VIOLATIONS.append(f"{frame['event']}: {exc}")


def new_device() -> str:
    return "dev_" + secrets.token_hex(8)


async def guest_token(http: str, device_id: str | None = None) -> str:
    async with loopback_client(base_url=http) as c:
        r = await c.post("/api/auth/token", json={"deviceId": device_id or new_device()})
        r.raise_for_status()
        token: str = r.json()["token"]
        return token


class Peer:
    """One gateway connection with an inbox."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.inbox: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._ids = itertools.count(1)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self.closed: asyncio.Future[tuple[int | None, str]] = (
            asyncio.get_running_loop().create_future()
        )
        self.welcome: dict[str, Any] = {}
        self.token: str | None = None

    @classmethod
    async def connect(
        cls,
        ws_url: str,
        token: str | None,
        *,
        resume: str | None = None,
        hello: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Peer:
        ws = await websockets.connect(
            ws_url, max_size=None, open_timeout=WAIT_S, additional_headers=headers
        )
        peer = cls(ws)
        peer.token = token
        if hello:
            data: dict[str, Any] = {"token": token}
            if resume:
                data["resume"] = resume
            await peer.send_raw(orjson.dumps({"event": "hello", "data": data}).decode())
            peer.welcome = await peer.event("welcome")
        return peer

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = orjson.loads(raw)
                check_contract(frame)
                async with self._arrived:
                    self.inbox.append(frame)
                    self._arrived.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            rcvd = self.ws.protocol.close_rcvd
            if not self.closed.done():
                self.closed.set_result((rcvd.code if rcvd else None, rcvd.reason if rcvd else ""))
            async with self._arrived:
                self._arrived.notify_all()

    async def send_raw(self, raw: str | bytes) -> None:
        await self.ws.send(raw)

    async def emit(self, event: str, data: dict[str, Any] | None = None) -> None:
        await self.send_raw(orjson.dumps({"event": event, "data": data or {}}).decode())

    async def request(self, event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        frame_id = next(self._ids)
        await self.send_raw(
            orjson.dumps({"event": event, "data": data or {}, "id": frame_id}).decode()
        )
        return await self.take(lambda f: f.get("ack") == frame_id, f"ack {frame_id} of {event}")

    async def take(
        self, match: Callable[[dict[str, Any]], bool], what: str, timeout: float = WAIT_S
    ) -> dict[str, Any]:
        """Remove and return the first buffered frame matching ``match``, waiting for it."""

        def find() -> dict[str, Any] | None:
            for i, frame in enumerate(self.inbox):
                if match(frame):
                    return self.inbox.pop(i)
            return None

        async with asyncio.timeout(timeout):
            async with self._arrived:
                while True:
                    found = find()
                    if found is not None:
                        return found
                    if self._reader.done():
                        raise AssertionError(
                            f"connection closed while waiting for {what}; inbox={self.inbox}"
                        )
                    await self._arrived.wait()

    async def event(self, name: str, timeout: float = WAIT_S) -> dict[str, Any]:
        frame = await self.take(lambda f: f.get("event") == name, f"event {name}", timeout)
        data: dict[str, Any] = frame["data"]
        return data

    async def barrier(self) -> None:
        """Round-trip a ping: everything the server queued for us before it has arrived."""
        await self.request("ping")
        await self.event("pong")

    def events(self, name: str) -> list[dict[str, Any]]:
        return [f["data"] for f in self.inbox if f.get("event") == name]

    async def wait_closed(self, timeout: float = WAIT_S) -> tuple[int | None, str]:
        async with asyncio.timeout(timeout):
            return await asyncio.shield(self.closed)

    async def close(self) -> None:
        await self.ws.close()
        await self._reader

    def abort(self) -> None:
        """Drop the TCP connection without a close frame, as a network failure would."""
        assert self.ws.transport is not None
        self.ws.transport.abort()


async def paired(
    ws_url: str, http: str, mode: str = "video", **criteria: Any
) -> tuple[Peer, Peer, dict[str, Any], dict[str, Any]]:
    """Two fresh visitors joined and matched with each other: (a, b, a's matched, b's matched)."""
    a = await Peer.connect(ws_url, await guest_token(http))
    b = await Peer.connect(ws_url, await guest_token(http))
    tag = secrets.token_hex(6)
    interests = [tag, *criteria.pop("interests", [])]
    assert (await a.request("join-queue", {"mode": mode, "interests": interests, **criteria}))["ok"]
    assert (await b.request("join-queue", {"mode": mode, "interests": interests, **criteria}))["ok"]
    ma = await a.event("matched")
    mb = await b.event("matched")
    return a, b, ma, mb
