"""Staff accounts for tests: created with the real CLI, logged in over the real API."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.support.http import loopback_client
from tests.support.server import Server


class StaffClient:
    def __init__(self, server: Server, access: str, refresh: str) -> None:
        self.server = server
        self.access = access
        self.refresh = refresh

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with loopback_client(base_url=self.server.http) as http:
            return await http.request(method, path, headers=self.headers, **kwargs)


async def login(server: Server, email: str, password: str) -> StaffClient:
    async with loopback_client(base_url=server.http) as http:
        r = await http.post("/api/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    return StaffClient(server, body["accessToken"], body["refreshToken"])


async def new_admin(server: Server) -> tuple[StaffClient, str, str]:
    email = f"admin-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(16)
    done = server.cli("create-admin", "--email", email, f"--password={password}")
    assert done.returncode == 0, done.stderr
    return await login(server, email, password), email, password


async def new_moderator(server: Server, admin: StaffClient) -> StaffClient:
    email = f"mod-{secrets.token_hex(4)}@example.test"
    password = secrets.token_urlsafe(16)
    r = await admin.call(
        "POST",
        "/api/admin/staff",
        json={"email": email, "password": password, "displayName": "Mod", "role": "moderator"},
    )
    assert r.status_code == 201, r.text
    return await login(server, email, password)
