"""A minimal gateway client for the load test: a guest token over REST, a WebSocket with
``hello``, requests matched to their acks by id, everything else queued as events.

Built on ``websockets`` (installed with ``uvicorn[standard]``) and the standard
library's HTTP client in a worker thread: nothing beyond what serving already installs,
so ``connect loadtest`` runs wherever ``connect serve`` does. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import ssl
import urllib.error
import urllib.request
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

USER_AGENT = "connect-loadtest"


class WireError(Exception):
    """A request that failed; ``code`` is the protocol's error code or a transport name."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


def _post_json(url: str, body: dict[str, Any], timeout: float) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 (http(s) only: target.check_target)
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        method="POST",
    )
    context = ssl.create_default_context()
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310 (http(s) only: target.check_target)
            status = int(response.status)
            payload = response.read(65536)
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read(65536)
    try:
        data = json.loads(payload) if payload else {}
    except ValueError:
        data = {}
    return status, data if isinstance(data, dict) else {}


async def guest_token(http: str, timeout: float) -> str:
    """``POST /api/auth/token`` for a new device; WireError with the refusal's code."""
    device = "lt_" + secrets.token_hex(8)
    try:
        status, data = await asyncio.wait_for(
            asyncio.to_thread(_post_json, f"{http}/api/auth/token", {"deviceId": device}, timeout),
            timeout + 1,
        )
    except (OSError, TimeoutError) as exc:
        raise WireError("http_unreachable", type(exc).__name__) from None
    if status != 200 or not isinstance(data.get("token"), str):
        code = data.get("error", {}).get("code") if isinstance(data.get("error"), dict) else None
        raise WireError(str(code or f"http_{status}"))
    return str(data["token"])


class Gateway:
    """One socket: ``request`` waits for its ack, ``next_event`` for the next event."""

    def __init__(self, ws: ClientConnection, timeout: float) -> None:
        self._ws = ws
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._acks: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self.closed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, ws_url: str, token: str, timeout: float) -> tuple[Gateway, dict[str, Any]]:
        try:
            ws = await connect(
                ws_url,
                open_timeout=timeout,
                close_timeout=2,
                max_size=1 << 20,
                user_agent_header=USER_AGENT,
            )
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise WireError("ws_connect_failed", type(exc).__name__) from None
        gateway = cls(ws, timeout)
        try:
            await gateway.send("hello", {"token": token})
            welcome = await gateway.wait_event("welcome", timeout)
        except BaseException:
            await gateway.close()
            raise
        return gateway, welcome

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                frame = orjson.loads(raw)
                if "ack" in frame:
                    future = self._acks.pop(frame["ack"], None)
                    if future is not None and not future.done():
                        future.set_result(frame)
                elif self.events.full():
                    continue  # a client that cannot keep up drops, bounded
                else:
                    self.events.put_nowait(frame)
        except (ConnectionClosed, ValueError):
            pass
        finally:
            self.closed.set()
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(WireError("socket_closed"))
            self._acks.clear()

    async def send(self, event: str, data: dict[str, Any]) -> None:
        try:
            await self._ws.send(orjson.dumps({"event": event, "data": data}).decode())
        except ConnectionClosed:
            raise WireError("socket_closed") from None

    async def request(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """The ack's data-less frame when ``ok``; WireError with the refusal's code if not."""
        if self.closed.is_set():
            raise WireError("socket_closed")
        frame_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[frame_id] = future
        try:
            await self._ws.send(
                orjson.dumps({"event": event, "data": data, "id": frame_id}).decode()
            )
            ack = await asyncio.wait_for(future, self._timeout)
        except ConnectionClosed:
            raise WireError("socket_closed") from None
        except TimeoutError:
            raise WireError("ack_timeout", event) from None
        finally:
            self._acks.pop(frame_id, None)
        if not ack.get("ok"):
            error = ack.get("error") or {}
            raise WireError(str(error.get("code", "refused")), event)
        return ack

    async def next_event(self, timeout: float) -> dict[str, Any] | None:
        """The next event, None after ``timeout`` s; WireError once the socket has ended."""
        if self.events.empty() and self.closed.is_set():
            raise WireError("socket_closed")
        getter = asyncio.ensure_future(self.events.get())
        closed = asyncio.ensure_future(self.closed.wait())
        try:
            done, _ = await asyncio.wait(
                {getter, closed}, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            closed.cancel()
            if not getter.done():
                getter.cancel()
        if getter in done:
            return getter.result()
        if closed in done and self.events.empty():
            raise WireError("socket_closed")
        return None

    async def wait_event(self, name: str, timeout: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.next_event(deadline - loop.time())
            if frame is None:
                raise WireError("event_timeout", name)
            if frame.get("event") == name:
                data: dict[str, Any] = frame.get("data") or {}
                return data
            if frame.get("event") == "error":
                raise WireError(str((frame.get("data") or {}).get("code", "error")), name)

    async def close(self) -> None:
        """A normal close (1000): the server ends the place at once, no grace period."""
        with contextlib.suppress(Exception):
            await self._ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)
