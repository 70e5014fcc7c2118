"""An exhausted database pool is an overload to shed (503 with a retry hint), not a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout

from connect.app import create_app
from connect.clock import FakeClock
from connect.settings import Settings
from tests.support.http import loopback_client


async def test_a_request_that_waited_out_the_pool_gets_503_overloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(_env_file=None, data_dir=tmp_path), FakeClock())  # type: ignore[call-arg]

    async def pool_exhausted(**_: Any) -> None:
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached")

    monkeypatch.setattr(app.services.bans, "refuse_if_banned", pool_exhausted)
    transport = httpx.ASGITransport(app=app)
    async with loopback_client(transport=transport, base_url="http://127.0.0.1") as http:
        reply = await http.post("/api/auth/token", json={"deviceId": "device-0001"})
    assert reply.status_code == 503
    assert reply.json() == {
        "error": {"code": "overloaded", "message": "the server is busy, retry shortly"},
        "retryAfterMs": 1000,
    }
    assert reply.headers["retry-after"] == "1"
    await app.services.db.close()
