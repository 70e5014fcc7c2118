"""Uploaded files: bounded size, type decided by content (magic bytes), never by the client.

The declared Content-Type and filename extension of an upload are ignored
for the decision; the first bytes must match one of the allowed formats.
Stored files get a random name under the data directory, so a filename can
never escape it or collide.

Attachments are also bounded per account (:class:`UploadGuard`): a rate
(``CONNECT_RATE_UPLOAD``, 429) and a total of stored bytes
(``CONNECT_UPLOAD_QUOTA_BYTES``, 413), because one account could otherwise
fill the disk (measured before: 200 MiB in 1.8 s). And a file uploaded but
never sent in a message would hold disk and quota forever, so the
housekeeping loop's janitor (:meth:`UploadGuard.sweep`) removes attachments
no message references once ``CONNECT_ATTACHMENT_ORPHAN_GRACE_S`` has passed.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog
from sqlalchemy import delete, exists, func, select

from connect.clock import Clock
from connect.errors import ConnectError
from connect.ratelimit import RateLimiter, Rule
from connect.storage.db import Database
from connect.storage.models import Attachment, Message
from connect.storage.times import aware

log = structlog.get_logger(__name__)
SWEEP_BATCH = 500
SWEEP_MAX_BATCHES = 20

SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
)
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
ATTACHMENT_TYPES = IMAGE_TYPES | {"application/pdf", "text/plain"}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "text/plain": "txt",
}


def sniff(data: bytes) -> str | None:
    for magic, offset, kind in SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (
            kind != "image/webp" or data[:4] == b"RIFF"
        ):
            return kind
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain" if b"\x00" not in data[:4096] else None


def check_upload(data: bytes, allowed: frozenset[str], max_bytes: int) -> str:
    """Return the content type of ``data`` or refuse it."""
    if not data:
        raise ConnectError("invalid_upload", "the file is empty")
    if len(data) > max_bytes:
        raise ConnectError(
            "upload_too_large", f"files are limited to {max_bytes} bytes", status=413
        )
    kind = sniff(data)
    if kind is None or kind not in allowed:
        raise ConnectError(
            "unsupported_type", "allowed types: " + ", ".join(sorted(allowed)), status=415
        )
    return kind


def store(directory: Path, data: bytes, kind: str) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{EXTENSIONS[kind]}"
    (directory / name).write_bytes(data)
    return name


class AttachmentLedger(Protocol):
    """What the quota and the janitor need to know about stored attachments."""

    async def used_bytes(self, uploader_id: str) -> int:
        """Bytes of every attachment ``uploader_id`` has stored."""
        ...

    async def orphans(
        self, since: datetime | None, before: datetime, limit: int
    ) -> Sequence[Attachment]:
        """Attachments created in [since, before) that no message references, oldest first."""
        ...

    async def delete_orphan(self, attachment_id: str) -> bool:
        """Delete the row if still no message references it; False if kept or gone."""
        ...


class SqlAttachmentLedger:
    """The ledger on the attachments and messages tables (indexes from migration 0007)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def used_bytes(self, uploader_id: str) -> int:
        async with self._db.session() as s:
            total = await s.scalar(
                select(func.coalesce(func.sum(Attachment.size), 0)).where(
                    Attachment.uploader_id == uploader_id
                )
            )
            return int(total or 0)

    async def orphans(
        self, since: datetime | None, before: datetime, limit: int
    ) -> Sequence[Attachment]:
        referenced = exists().where(Message.attachment_id == Attachment.id)
        q = select(Attachment).where(Attachment.created_at < before, ~referenced)
        if since is not None:
            q = q.where(Attachment.created_at >= since)
        async with self._db.session() as s:
            return list(await s.scalars(q.order_by(Attachment.created_at).limit(limit)))

    async def delete_orphan(self, attachment_id: str) -> bool:
        referenced = exists().where(Message.attachment_id == attachment_id)
        async with self._db.session() as s:
            result = await s.execute(
                delete(Attachment).where(Attachment.id == attachment_id, ~referenced)
            )
            await s.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]


class _AccountLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class UploadGuard:
    """Per-account upload rate and byte quota, and the janitor of unsent attachments.

    The quota counts the bytes of the account's stored attachments (the
    janitor's removals give them back). On one node an account's uploads are
    checked and stored one at a time, so concurrent uploads cannot all pass
    the same check (measured: six at once against room for three stored
    exactly three). Across nodes the check is not atomic: each node can let
    one upload overshoot, and the rate limit, shared over Redis, bounds how
    often.
    """

    def __init__(
        self,
        *,
        ledger: AttachmentLedger,
        limiter: RateLimiter,
        rate: str,
        quota_bytes: int,
        files_dir: Path,
        orphan_grace_s: float,
        clock: Clock,
    ) -> None:
        self._ledger = ledger
        self._limiter = limiter
        self._rule = Rule.parse("upload", rate)
        self._quota = quota_bytes
        self._files = files_dir
        self._grace_s = orphan_grace_s
        self._clock = clock
        self._locks: dict[str, _AccountLock] = {}
        # Every attachment created before this instant has been judged by a sweep: kept
        # ones are referenced and stay so, so each sweep only reads what is new since.
        self._swept_until: datetime | None = None

    @asynccontextmanager
    async def admit(self, account_id: str, size: int) -> AsyncIterator[None]:
        """Let ``account_id`` store ``size`` more bytes in the body, or refuse.

        The body runs holding the account's lock on this node, so the next
        upload's check sees this one's row.

        429 ``rate_limited`` over ``CONNECT_RATE_UPLOAD``; 413
        ``upload_quota_exceeded`` when the stored bytes plus this file would
        pass ``CONNECT_UPLOAD_QUOTA_BYTES``.
        """
        await self._limiter.hit(self._rule, account_id)
        entry = self._locks.get(account_id)
        if entry is None:
            entry = self._locks[account_id] = _AccountLock()
        entry.users += 1
        try:
            async with entry.lock:
                used = await self._ledger.used_bytes(account_id)
                if used + size > self._quota:
                    raise ConnectError(
                        "upload_quota_exceeded",
                        f"your attachments already use {used} of your {self._quota} bytes; "
                        f"this file ({size} bytes) does not fit. Files never sent in a "
                        f"message are removed after {round(self._grace_s / 3600, 1)} hours.",
                        status=413,
                        extra={"quota": {"usedBytes": used, "limitBytes": self._quota}},
                    )
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._locks[account_id]

    async def sweep(self) -> int:
        """Remove attachments no message references, older than the grace; return how many.

        The row goes first, and only if still unreferenced (a message sent at
        that moment keeps it), then the file. A file that cannot be unlinked
        is logged and left; its row is gone, so nothing serves it any more.
        """
        cutoff = datetime.fromtimestamp(self._clock.now() - self._grace_s, UTC)
        since = self._swept_until
        removed = 0
        for _ in range(SWEEP_MAX_BATCHES):
            batch = await self._ledger.orphans(since, cutoff, SWEEP_BATCH)
            for attachment in batch:
                if not await self._ledger.delete_orphan(attachment.id):
                    continue
                removed += 1
                try:
                    (self._files / attachment.path).unlink(missing_ok=True)
                except OSError as exc:
                    log.warning("attachment_unlink_failed", error=type(exc).__name__)
            if len(batch) < SWEEP_BATCH:
                self._swept_until = cutoff
                break
            since = aware(batch[-1].created_at)
            self._swept_until = since
        if removed:
            log.info("attachments_swept", removed=removed)
        return removed
