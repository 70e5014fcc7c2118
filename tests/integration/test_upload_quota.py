"""Uploads bounded per account: a rate (429) and a byte quota (413) over real HTTP on both
backends, and the janitor that removes attachments no message references (real SQLite and
PostgreSQL, the clock injected)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

import httpx
import pytest

from connect.clock import FakeClock
from connect.contacts.schemas import MessageIn
from connect.errors import ConnectError
from connect.services import Services, build_services
from connect.settings import Settings
from connect.storage.migrate import upgrade
from tests.conftest import BACKENDS, backend_settings
from tests.support.client import guest_token
from tests.support.http import loopback_client
from tests.support.server import Server
from tests.support.services import create_database
from tests.support.users import User, new_user

QUOTA = 3000


def png(size: int) -> bytes:
    head = b"\x89PNG\r\n\x1a\n"
    return head + b"\x00" * (size - len(head))


@pytest.fixture(scope="module", params=BACKENDS)
def quota_server(
    request: pytest.FixtureRequest, make_server: Callable[[Mapping[str, str]], Server]
) -> Server:
    overrides = {
        "CONNECT_UPLOAD_QUOTA_BYTES": str(QUOTA),
        "CONNECT_RATE_UPLOAD": "6/minute",
        "CONNECT_ATTACHMENT_MAX_BYTES": "2048",
    }
    if request.param != "memory-sqlite":
        overrides |= backend_settings(request.param, request.getfixturevalue("backing_services"))
    return make_server(overrides)


async def pair(server: Server) -> tuple[User, User, str]:
    a, b = await new_user(server, "Ann"), await new_user(server, "Bob")
    r = await a.call("POST", "/api/channels", json={"userId": b.id})
    assert r.status_code == 200, r.text
    return a, b, str(r.json()["id"])


async def upload(user: User, channel_id: str, data: bytes) -> httpx.Response:
    return await user.call(
        "POST",
        "/api/attachments",
        data={"channelId": channel_id},
        files={"file": ("f.png", data, "image/png")},
    )


async def test_quota_refuses_with_413_and_a_clear_message(quota_server: Server) -> None:
    a, b, cid = await pair(quota_server)
    for _ in range(3):
        r = await upload(a, cid, png(1000))
        assert r.status_code == 201, r.text
    over = await upload(a, cid, png(10))
    assert over.status_code == 413, over.text
    body = over.json()
    assert body["error"]["code"] == "upload_quota_exceeded"
    assert "3000 of your 3000 bytes" in body["error"]["message"]
    assert body["quota"] == {"usedBytes": 3000, "limitBytes": QUOTA}
    # The quota is the uploader's: the other member still has all of theirs.
    assert (await upload(b, cid, png(1000))).status_code == 201
    # A single file over the size bound is still the size error, not a quota one.
    fresh, _, cid2 = await pair(quota_server)
    big = await upload(fresh, cid2, png(2049))
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "upload_too_large"


async def test_rate_refuses_with_429_and_retry_after(quota_server: Server) -> None:
    a, b, cid = await pair(quota_server)
    for _ in range(6):
        r = await upload(a, cid, png(50))
        assert r.status_code == 201, r.text
    limited = await upload(a, cid, png(50))
    assert limited.status_code == 429, limited.text
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited.json()["retryAfterMs"] > 0
    assert int(limited.headers["retry-after"]) >= 1
    # Per account: the other member is not slowed down by it.
    assert (await upload(b, cid, png(50))).status_code == 201


async def test_concurrent_uploads_cannot_overshoot_the_quota(quota_server: Server) -> None:
    """Six 1000-byte uploads at once against a 3000-byte quota: exactly three are stored."""
    a, _, cid = await pair(quota_server)
    results = await asyncio.gather(*(upload(a, cid, png(1000)) for _ in range(6)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 201, 201, 413, 413, 413], [r.text for r in results]


async def test_guests_and_strangers_cannot_upload(quota_server: Server) -> None:
    _a, _, cid = await pair(quota_server)
    guest = await guest_token(quota_server.http)
    async with loopback_client(base_url=quota_server.http) as http:
        r = await http.post(
            "/api/attachments",
            headers={"Authorization": f"Bearer {guest}"},
            data={"channelId": cid},
            files={"file": ("f.png", png(100), "image/png")},
        )
        assert r.status_code in (401, 403), r.text
        r = await http.post(
            "/api/attachments",
            data={"channelId": cid},
            files={"file": ("f.png", png(100), "image/png")},
        )
        assert r.status_code == 401, r.text
    outsider = await new_user(quota_server, "Eve")
    assert (await upload(outsider, cid, png(100))).status_code == 404


# --- the janitor, in process on a real database with an injected clock ---------------------

GRACE_S = 3600.0


@pytest.fixture(params=["sqlite", "postgres"])
async def svc(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Services]:
    database_url = None
    if request.param == "postgres":
        base = request.getfixturevalue("backing_services")["postgres"]
        database_url = create_database(base, f"connect_{uuid.uuid4().hex[:12]}")
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=database_url,
        attachment_orphan_grace_s=GRACE_S,
    )
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    services = build_services(settings, clock)
    yield services
    await services.db.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_janitor_removes_unreferenced_attachments_after_the_grace(
    svc: Services, clock: FakeClock, tmp_path: Path
) -> None:
    ann = await svc.accounts.create(f"ann-{uuid.uuid4().hex[:6]}@x.test", "a-long-password", "Ann")
    bob = await svc.accounts.create(f"bob-{uuid.uuid4().hex[:6]}@x.test", "a-long-password", "Bob")
    channel = await svc.contacts.open_channel(ann.id, bob.id)
    files = tmp_path / "attachments"

    async def put(size: int) -> str:
        async with svc.uploads.admit(ann.id, size):
            return (await svc.contacts.upload(ann.id, channel.id, "f.png", png(size))).id

    sent, unsent = await put(300), await put(200)
    await svc.contacts.send(
        ann.id, channel.id, MessageIn(text="", attachment_id=sent, client_id="c1")
    )
    assert len(list(files.iterdir())) == 2
    assert await svc.uploads.sweep() == 0

    clock.advance(GRACE_S - 1)
    assert await svc.uploads.sweep() == 0, "removed inside its grace"
    await svc.contacts.attachment_file(bob.id, unsent)

    clock.advance(2)
    assert await svc.uploads.sweep() == 1
    with pytest.raises(ConnectError) as gone:
        await svc.contacts.attachment_file(bob.id, unsent)
    assert gone.value.status == 404
    path, _ = await svc.contacts.attachment_file(bob.id, sent)
    assert path.read_bytes() == png(300)
    assert [p.name for p in files.iterdir()] == [path.name]

    # The quota got the bytes back; a later orphan is found by a later sweep (each sweep
    # reads only what is new since the last one, and must not skip it).
    late = await put(100)
    clock.advance(GRACE_S + 1)
    assert await svc.uploads.sweep() == 1
    with pytest.raises(ConnectError):
        await svc.contacts.attachment_file(bob.id, late)
    assert await svc.uploads.sweep() == 0
    assert (await svc.contacts.attachment_file(bob.id, sent))[0].is_file()


async def test_quota_counts_stored_bytes_and_is_freed_by_the_janitor(
    svc: Services, clock: FakeClock
) -> None:
    settings = svc.settings
    ann = await svc.accounts.create(f"ann-{uuid.uuid4().hex[:6]}@x.test", "a-long-password", "Ann")
    bob = await svc.accounts.create(f"bob-{uuid.uuid4().hex[:6]}@x.test", "a-long-password", "Bob")
    channel = await svc.contacts.open_channel(ann.id, bob.id)
    quota = settings.upload_quota_bytes
    with pytest.raises(ConnectError) as refused:
        async with svc.uploads.admit(ann.id, quota + 1):
            pass
    assert refused.value.status == 413
    async with svc.uploads.admit(ann.id, 500):
        await svc.contacts.upload(ann.id, channel.id, "f.png", png(500))
    with pytest.raises(ConnectError):
        async with svc.uploads.admit(ann.id, quota - 499):
            pass
    clock.advance(GRACE_S + 1)
    assert await svc.uploads.sweep() == 1
    async with svc.uploads.admit(ann.id, quota - 499):
        pass
