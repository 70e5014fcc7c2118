"""A user's own data: export it as a ZIP, or delete the account.

Export is streamed: the ZIP is written entry by entry into a small buffer
that is handed to the response as soon as something is in it, and messages
are read a page at a time, so the server's memory does not grow with the
size of anyone's history (only the rows of one page and one file chunk are
held). ``zipfile`` writes to a non-seekable sink with data descriptors,
which every unzip tool reads.

Deletion follows what users of messengers expect and what the GDPR asks
(erasure of what is *theirs*, while keeping what others hold and what the
law lets the operator keep): the account row stays as an anonymous shell
(its id is named by the other side's conversations, by bans and by the audit
log), the profile, avatar, email, password, presence, reactions, blocks and
uploaded attachments go, and the messages already sent stay in the
recipients' conversations, shown as from "Deleted account" (WhatsApp and
Signal do the same). Moderation records and the audit log are kept.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from connect.clock import Clock, utc_now
from connect.errors import ConnectError
from connect.identity.accounts import ROLES, STAFF_ROLES, AccountService
from connect.identity.privacy_store import DELETED_NAME, PrivacyStore
from connect.identity.service import Principal
from connect.moderation.audit import Actor, AuditLog
from connect.storage.models import (
    Account,
    Call,
    LoginFamily,
    Message,
)
from connect.storage.times import aware

log = structlog.get_logger(__name__)

CHUNK = 64 * 1024

README = """Connect: your data
==================

profile.json       your account (email, display name, role, sign-up time, presence setting)
avatar/            your profile picture, if you had one
sessions.json      the devices signed in to your account
channels.json      your conversations and who they are with
messages/<id>.jsonl  every message of each conversation, yours and the other person's,
                   one JSON object a line (a message deleted for everyone has no text)
attachments.json   the files you sent, and attachments/ the files themselves
calls.json         your direct calls
blocks.json        the people you blocked
reports.json       the ids of the reports you filed

Times are UTC (ISO 8601).
"""


def _iso(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value is not None else None


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1).encode()


def _safe_name(name: str) -> str:
    """A file name without directories or control characters (for a ZIP entry)."""
    cleaned = "".join(c if c.isprintable() and c not in '/\\:*?"<>|' else "_" for c in name)
    return cleaned.strip(" .")[:100] or "file"


class _Sink(io.RawIOBase):
    """The ZIP's output: collects what ``zipfile`` writes until the stream takes it."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


class PrivacyService:
    def __init__(
        self,
        *,
        accounts: AccountService,
        store: PrivacyStore,
        audit: AuditLog | None,
        clock: Clock,
        avatars_dir: Path,
        files_dir: Path,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._audit = audit
        self._clock = clock
        self._avatars = avatars_dir
        self._files = files_dir

    def export_name(self) -> str:
        return f"connect-export-{utc_now(self._clock):%Y%m%d}.zip"

    async def export(self, principal: Principal) -> AsyncIterator[bytes]:
        """Authorize now (so a refusal is a proper 4xx), then the ZIP as a byte stream."""
        account = await self._accounts.authorize(principal, ROLES)
        sessions = await self._accounts.sessions(principal)
        return self._zip(account, sessions)

    async def _zip(
        self, account: Account, sessions: list[tuple[LoginFamily, bool]]
    ) -> AsyncIterator[bytes]:
        me = account.id
        sink = _Sink()
        zf = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)

        def entry(name: str, data: bytes) -> bytes:
            zf.writestr(name, data)
            return sink.take()

        yield entry("README.txt", README.encode())
        avatar_entry = None
        if account.avatar_path and (self._avatars / account.avatar_path).is_file():
            avatar_entry = f"avatar/{_safe_name(account.avatar_path)}"
            with zf.open(avatar_entry, "w") as out:
                for chunk in _read(self._avatars / account.avatar_path):
                    out.write(chunk)
            yield sink.take()
        presence = await self._store.presence(me)
        profile = {
            "id": me,
            "email": account.email,
            "displayName": account.display_name,
            "role": account.role,
            "createdAt": _iso(account.created_at),
            "presence": {
                "visibility": presence.visibility if presence else "contacts",
                "lastSeenAt": _iso(presence.last_seen_at) if presence else None,
            },
            "avatar": avatar_entry,
        }
        yield entry("profile.json", _json(profile))
        yield entry(
            "sessions.json",
            _json(
                [
                    {
                        "id": f.id,
                        "createdAt": _iso(f.created_at),
                        "lastUsedAt": _iso(f.last_used_at or f.created_at),
                        "browser": f.browser,
                        "current": current,
                    }
                    for f, current in sessions
                ]
            ),
        )
        channels = await self._store.channels_of(me)
        yield entry(
            "channels.json",
            _json(
                [
                    {
                        "id": c.id,
                        "createdAt": _iso(c.created_at),
                        "peer": {
                            "id": peer.id if peer else None,
                            "displayName": peer.display_name if peer else DELETED_NAME,
                        },
                    }
                    for c, peer in channels
                ]
            ),
        )
        for channel, _ in channels:
            with zf.open(f"messages/{channel.id}.jsonl", "w") as out:
                after = 0
                while page := await self._store.messages(channel.id, after):
                    for m in page:
                        out.write(_json_line(_message(m, me)))
                    after = page[-1].seq
                    yield sink.take()
            yield sink.take()
        listed: list[dict[str, Any]] = []
        cursor = ""
        while page_a := await self._store.attachments(me, cursor):
            for a in page_a:
                path = self._files / a.path
                name = f"attachments/{a.id}-{_safe_name(a.filename)}"
                if path.is_file():
                    with zf.open(name, "w") as out:
                        for chunk in _read(path):
                            out.write(chunk)
                            yield sink.take()
                    yield sink.take()
                listed.append(
                    {
                        "id": a.id,
                        "channelId": a.channel_id,
                        "filename": a.filename,
                        "contentType": a.content_type,
                        "size": a.size,
                        "createdAt": _iso(a.created_at),
                        "file": name if path.is_file() else None,
                    }
                )
            cursor = page_a[-1].id
        yield entry("attachments.json", _json(listed))
        with zf.open("calls.json", "w") as out:
            out.write(b"[")
            first = True
            cursor = ""
            while page_c := await self._store.calls(me, cursor):
                for call in page_c:
                    out.write((b"" if first else b",") + b"\n" + json.dumps(_call(call)).encode())
                    first = False
                cursor = page_c[-1].id
                yield sink.take()
            out.write(b"\n]")
        yield sink.take()
        blocks = await self._store.blocks(me)
        yield entry(
            "blocks.json",
            _json([{"userId": b.blocked_id, "createdAt": _iso(b.created_at)} for b in blocks]),
        )
        reports = await self._store.reports_by(me)
        yield entry(
            "reports.json", _json([{"id": rid, "createdAt": _iso(at)} for rid, at in reports])
        )
        zf.close()
        yield sink.take()

    async def delete_account(self, principal: Principal, password: str) -> None:
        """Delete the caller's account (confirmed by its password); see the module doc."""
        account = await self._accounts.authorize(principal, ROLES)
        if not await self._accounts.password_matches(account, password):
            raise ConnectError("wrong_password", "the password is wrong", status=403)
        if account.role in STAFF_ROLES:
            raise ConnectError(
                "staff_account", "a moderator or admin account is removed by an admin", status=403
            )
        at = utc_now(self._clock)
        # Sockets first: nothing of the account may act while it is being wiped.
        await self._accounts.end_every_login(account.id, reason="account deleted")
        wiped = await self._store.wipe(account.id, at)
        for name in wiped.attachments:
            _unlink(self._files / name)
        if wiped.avatar:
            _unlink(self._avatars / wiped.avatar)
        if self._audit is not None:
            await self._audit.append(
                Actor(account.id, account.role),
                "account.delete",
                "account",
                account.id,
                {
                    "by": "self",
                    "messagesKept": wiped.messages_kept,
                    "attachmentsRemoved": len(wiped.attachments),
                },
            )
        log.info("account_deleted", attachments=len(wiped.attachments))


def _json_line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode() + b"\n"


def _message(m: Message, me: str) -> dict[str, Any]:
    return {
        "id": m.id,
        "seq": m.seq,
        "senderId": m.sender_id,
        "fromMe": m.sender_id == me,
        "text": "" if m.deleted_at is not None else m.text,
        "createdAt": _iso(m.created_at),
        "editedAt": _iso(m.edited_at),
        "deletedAt": _iso(m.deleted_at),
        "replyToId": m.reply_to_id,
        "attachmentId": m.attachment_id,
        "deliveredAt": _iso(m.delivered_at),
        "readAt": _iso(m.read_at),
    }


def _call(c: Call) -> dict[str, Any]:
    return {
        "id": c.id,
        "callerId": c.caller_id,
        "calleeId": c.callee_id,
        "media": c.media,
        "status": c.status,
        "createdAt": _iso(c.created_at),
        "answeredAt": _iso(c.answered_at),
        "endedAt": _iso(c.ended_at),
        "endReason": c.end_reason,
    }


def _read(path: Path) -> Iterable[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("privacy_unlink_failed", error=type(exc).__name__)
