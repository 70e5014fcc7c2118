"""Registered users for tests: signed up and logged in over the real API."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.client import Peer
from tests.support.http import loopback_client
from tests.support.server import Server


@dataclass
class User:
    server: Server
    id: str
    email: str
    password: str
    access: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with loopback_client(base_url=self.server.http) as http:
            return await http.request(method, path, headers=self.headers, **kwargs)

    async def device(self) -> Peer:
        """A new gateway connection (one more device) of this user."""
        return await Peer.connect(self.server.ws, self.access)


async def new_user(server: Server, name: str = "User") -> User:
    email = f"{name.lower()}-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(12)
    async with loopback_client(base_url=server.http) as http:
        r = await http.post(
            "/api/auth/signup", json={"email": email, "password": password, "displayName": name}
        )
        assert r.status_code == 201, r.text
        user_id = r.json()["id"]
        r = await http.post("/api/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
    return User(server, user_id, email, password, r.json()["accessToken"])


async def channel(a: User, b: User) -> str:
    """The id of ``a``'s conversation with ``b`` (opened, or the existing one)."""
    r = await a.call("POST", "/api/channels", json={"userId": b.id})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def post_message(user: User, cid: str, text: str) -> httpx.Response:
    """``user`` sends ``text`` in conversation ``cid`` over REST; the answer unchecked."""
    return await user.call(
        "POST", f"/api/channels/{cid}/messages", json={"text": text, "clientId": uuid.uuid4().hex}
    )
