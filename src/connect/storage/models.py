"""Durable tables. The schema changes only through Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Report(Base):
    """A visitor's report about the other member of a session.

    The session's metadata is copied in at filing time: live sessions are
    ephemeral, and the report must stand on its own once they are gone.
    """

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("session_id", "reporter_subject"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # None for a report filed from a contacts conversation (then channel_id is set).
    session_id: Mapped[str | None] = mapped_column(String(32), index=True)
    reporter_subject: Mapped[str] = mapped_column(String(80), index=True)
    reporter_ip_hash: Mapped[str] = mapped_column(String(64))
    reported_subject: Mapped[str] = mapped_column(String(80), index=True)
    reported_kind: Mapped[str] = mapped_column(String(8), default="guest", server_default="guest")
    reported_peer_id: Mapped[str | None] = mapped_column(String(32))
    reported_ip_hash: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    session_mode: Mapped[str] = mapped_column(String(8))
    session_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    session_ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    common_interests: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    transcript: Mapped[list[Any] | None] = mapped_column(JSON)
    evidence_path: Mapped[str | None] = mapped_column(String(255))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    ban_id: Mapped[str | None] = mapped_column(String(32))
    # Reports from a contacts conversation: the channel, the message (if one was
    # reported) and the reported account's id (what an account ban must name).
    channel_id: Mapped[str | None] = mapped_column(String(32), index=True)
    message_id: Mapped[str | None] = mapped_column(String(32))
    reported_account_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Frame moderation (0011): "user" or "auto" (filed by the frame classifier), the
    # flagged labels' scores of an automatic report, and a moderator's "this was wrong".
    source: Mapped[str] = mapped_column(String(8), default="user", server_default="user")
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    false_positive: Mapped[bool] = mapped_column(default=False, server_default=false())


class Account(Base):
    """A registered person: a contacts user, a moderator or an admin."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), index=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    avatar_path: Mapped[str | None] = mapped_column(String(255))
    # Set when the account was deleted (0010): the row stays, its profile is wiped.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    """One link of a refresh-token family; only the hash of the token is stored.

    Rotation replaces a token with a new one of the same family; presenting a
    token that was already replaced means it leaked, and revokes the family.
    """

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFamily(Base):
    """One login: the family its refresh tokens rotate in, named by access tokens' ``fam``.

    Revoking the family (logout, password change, reset, reuse detection) ends
    its refresh tokens *and* its access tokens at once: ``authorize`` reads
    this row by primary key together with the account row, one query.
    """

    __tablename__ = "login_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Signed-in devices (0010): a short label from the User-Agent at login (never the
    # User-Agent or the IP) and the last refresh, updated by the refresh's one write.
    browser: Mapped[str | None] = mapped_column(String(48))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PasswordReset(Base):
    """A password-reset token mailed to an account; only its SHA-256 is stored.

    Single use (``used_at``) and short-lived (``expires_at``): a leaked mail
    or database row is worth nothing once used or expired, and the row alone
    never lets anyone reset a password.
    """

    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Ban(Base):
    """A ban of one subject: a device id, an IP hash or an account id."""

    __tablename__ = "bans"
    __table_args__ = (Index("ix_bans_subject", "scope", "value"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lifted_by: Mapped[str | None] = mapped_column(String(32))
    report_id: Mapped[str | None] = mapped_column(String(32))
    automatic: Mapped[bool] = mapped_column(default=False)


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ban_id: Mapped[str] = mapped_column(ForeignKey("bans.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """An append-only, hash-chained record of one staff (or system) action.

    ``hash`` = SHA-256 over ``prev_hash`` and the row's canonical JSON; the
    unique ``prev_hash`` means two writers can never both extend the same
    row, so the chain cannot fork even with several nodes appending.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[str] = mapped_column(String(32))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), index=True)
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class Flag(Base):
    """An abuse signal raised against a subject (e.g. report spam), for moderators to see."""

    __tablename__ = "flags"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Channel(Base):
    """A 1:1 conversation; ``user_a`` < ``user_b`` so a pair has exactly one channel."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("user_a", "user_b"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_a: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_b: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seq: Mapped[int] = mapped_column(default=0)
    read_seq_a: Mapped[int] = mapped_column(default=0)
    read_seq_b: Mapped[int] = mapped_column(default=0)


class Message(Base):
    """A chat message. ``seq`` orders a channel's history and is the sync cursor."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "seq", name="uq_messages_channel_seq"),
        UniqueConstraint("channel_id", "sender_id", "client_id", name="uq_messages_client_id"),
        Index("ix_messages_undelivered", "recipient_id", "delivered_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    sender_id: Mapped[str] = mapped_column(String(32))
    recipient_id: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # Indexed for the attachment janitor's "referenced by no message" test (0007).
    attachment_id: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Messenger (0009): read receipt, edit, delete-for-everyone tombstone, quoted reply.
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply_to_id: Mapped[str | None] = mapped_column(String(32))


class Reaction(Base):
    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("message_id", "user_id", "emoji"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(32))
    emoji: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Attachment(Base):
    """An uploaded file; served only to members of its channel."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    # Indexed (0007): the per-account quota sums by uploader, the janitor reads by age.
    uploader_id: Mapped[str] = mapped_column(String(32), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    path: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Call(Base):
    """A direct call and its outcome (the call history)."""

    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    caller_id: Mapped[str] = mapped_column(String(32), index=True)
    callee_id: Mapped[str] = mapped_column(String(32), index=True)
    media: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    session_id: Mapped[str | None] = mapped_column(String(32))


class Block(Base):
    """``blocker_id`` blocked ``blocked_id``: nothing of the blocked reaches the blocker."""

    __tablename__ = "blocks"

    blocker_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PresenceSetting(Base):
    """Who may see an account's presence, and when it was last online (0009).

    Whether it is online *now* is never stored: it is read from the gateway's
    registry of places (every node's), so a dead node cannot leave anyone online.
    """

    __tablename__ = "presence"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    visibility: Mapped[str] = mapped_column(String(16), default="contacts")
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CallEvent(Base):
    """One step of a direct call's record: ringing, accepted, ICE states, restarts, ended."""

    __tablename__ = "call_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CallSample(Base):
    """One call-stats frame of a direct call, summarised into the call's quality."""

    __tablename__ = "call_samples"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ice_state: Mapped[str] = mapped_column(String(16))
    candidate_type: Mapped[str | None] = mapped_column(String(8))
    rtt_ms: Mapped[float | None] = mapped_column()
    loss_pct: Mapped[float | None] = mapped_column()
    bitrate_kbps: Mapped[float | None] = mapped_column()
