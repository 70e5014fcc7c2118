"""Durable tables. The schema changes only through Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Text, UniqueConstraint
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
    session_id: Mapped[str] = mapped_column(String(32), index=True)
    reporter_subject: Mapped[str] = mapped_column(String(64), index=True)
    reporter_ip_hash: Mapped[str] = mapped_column(String(64))
    reported_subject: Mapped[str] = mapped_column(String(64), index=True)
    reported_ip_hash: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    session_mode: Mapped[str] = mapped_column(String(8))
    session_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    session_ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    common_interests: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
