"""Durable storage of reports, bans, appeals, flags and the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from connect.storage.db import Database
from connect.storage.models import Appeal, AuditEntry, Ban, Flag, Report


class DuplicateReport(Exception):
    """This reporter already reported this session."""


class ChainConflict(Exception):
    """Another writer extended the audit chain first; re-read the head and retry."""


class ReportStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, report: Report) -> None:
        async with self._db.session() as s:
            s.add(report)
            try:
                await s.commit()
            except IntegrityError as exc:
                raise DuplicateReport from exc

    async def get(self, report_id: str) -> Report | None:
        async with self._db.session() as s:
            return await s.get(Report, report_id)

    async def queue(self, status: str | None, limit: int, offset: int) -> list[Report]:
        async with self._db.session() as s:
            q = select(Report).order_by(Report.created_at, Report.id).limit(limit).offset(offset)
            if status is not None:
                q = q.where(Report.status == status)
            return list(await s.scalars(q))

    async def about(
        self, subject: str, ip_hash: str | None, exclude: str, limit: int = 20
    ) -> list[Report]:
        """Other reports about this subject (or this IP hash, when one is known)."""
        same = [Report.reported_subject == subject]
        if ip_hash:
            same.append(Report.reported_ip_hash == ip_hash)
        async with self._db.session() as s:
            q = (
                select(Report)
                .where(
                    or_(*same),
                    Report.id != exclude,
                )
                .order_by(Report.created_at.desc())
                .limit(limit)
            )
            return list(await s.scalars(q))

    async def pending_from(self, reporter: str, channel_id: str, message_id: str | None) -> bool:
        """Whether this reporter has a pending report on this conversation (or message)."""
        async with self._db.session() as s:
            q = select(Report.id).where(
                Report.reporter_subject == reporter,
                Report.channel_id == channel_id,
                Report.status == "pending",
                Report.message_id.is_(None)
                if message_id is None
                else Report.message_id == message_id,
            )
            return (await s.scalar(q.limit(1))) is not None

    async def distinct_reporters(self, subject: str, since: datetime) -> int:
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count(func.distinct(Report.reporter_subject))).where(
                    Report.reported_subject == subject, Report.created_at >= since
                )
            )
            return int(n or 0)

    async def auto_sessions_about(self, subject: str, since: datetime, exclude: str) -> int:
        """Sessions other than ``exclude`` with an automatic report about ``subject`` since."""
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count(func.distinct(Report.session_id))).where(
                    Report.reported_subject == subject,
                    Report.source == "auto",
                    Report.created_at >= since,
                    Report.session_id != exclude,
                )
            )
            return int(n or 0)

    async def filed_by(self, reporter: str, since: datetime) -> int:
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count())
                .select_from(Report)
                .where(Report.reporter_subject == reporter, Report.created_at >= since)
            )
            return int(n or 0)

    async def count(self, status: str) -> int:
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count()).select_from(Report).where(Report.status == status)
            )
            return int(n or 0)

    async def resolve(
        self,
        report_id: str,
        *,
        status: str,
        at: datetime,
        by: str,
        note: str | None,
        ban_id: str | None,
    ) -> bool:
        """Resolve a pending report; False if it was not pending (already resolved)."""
        async with self._db.session() as s:
            result = await s.execute(
                update(Report)
                .where(Report.id == report_id, Report.status == "pending")
                .values(
                    status=status,
                    resolved_at=at,
                    resolved_by=by,
                    resolution=status,
                    resolution_note=note,
                    ban_id=ban_id,
                )
            )
            await s.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_false_positive(self, report_id: str) -> bool:
        """Mark an automatic report wrong; False if it is not automatic or already marked."""
        async with self._db.session() as s:
            result = await s.execute(
                update(Report)
                .where(
                    Report.id == report_id,
                    Report.source == "auto",
                    Report.false_positive.is_(False),
                )
                .values(false_positive=True)
            )
            await s.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def expired_evidence(self, before: datetime) -> list[Report]:
        async with self._db.session() as s:
            q = select(Report).where(
                Report.created_at < before,
                or_(Report.transcript.is_not(None), Report.evidence_path.is_not(None)),
            )
            return list(await s.scalars(q))

    async def drop_evidence(self, report_ids: Sequence[str]) -> None:
        async with self._db.session() as s:
            await s.execute(
                update(Report)
                .where(Report.id.in_(report_ids))
                .values(transcript=None, evidence_path=None)
            )
            await s.commit()


class BanStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, ban: Ban) -> None:
        async with self._db.session() as s:
            s.add(ban)
            await s.commit()

    async def get(self, ban_id: str) -> Ban | None:
        async with self._db.session() as s:
            return await s.get(Ban, ban_id)

    async def active(self, subjects: Sequence[tuple[str, str]], now: datetime) -> list[Ban]:
        """Active bans on any of ``(scope, value)``, the longest-lasting first."""
        if not subjects:
            return []
        async with self._db.session() as s:
            q = (
                select(Ban)
                .where(
                    or_(
                        *(and_(Ban.scope == scope, Ban.value == value) for scope, value in subjects)
                    ),
                    Ban.lifted_at.is_(None),
                    or_(Ban.expires_at.is_(None), Ban.expires_at > now),
                )
                .order_by(Ban.expires_at.is_(None).desc(), Ban.expires_at.desc())
            )
            return list(await s.scalars(q))

    async def active_subjects(self, now: datetime) -> set[tuple[str, str]]:
        """Every ``(scope, value)`` under an active ban (the gateway's admission index)."""
        async with self._db.session() as s:
            rows = await s.execute(
                select(Ban.scope, Ban.value).where(
                    Ban.lifted_at.is_(None), or_(Ban.expires_at.is_(None), Ban.expires_at > now)
                )
            )
            return {(scope, value) for scope, value in rows}

    async def search(
        self, query: str | None, active_only: bool, now: datetime, limit: int
    ) -> list[Ban]:
        async with self._db.session() as s:
            q = select(Ban).order_by(Ban.created_at.desc()).limit(limit)
            if query:
                q = q.where(
                    or_(
                        Ban.value.like(f"%{query}%"), Ban.reason.like(f"%{query}%"), Ban.id == query
                    )
                )
            if active_only:
                q = q.where(
                    Ban.lifted_at.is_(None), or_(Ban.expires_at.is_(None), Ban.expires_at > now)
                )
            return list(await s.scalars(q))

    async def lift(self, ban_id: str, at: datetime, by: str) -> bool:
        async with self._db.session() as s:
            result = await s.execute(
                update(Ban)
                .where(Ban.id == ban_id, Ban.lifted_at.is_(None))
                .values(lifted_at=at, lifted_by=by)
            )
            await s.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count_active(self, now: datetime) -> int:
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count())
                .select_from(Ban)
                .where(Ban.lifted_at.is_(None), or_(Ban.expires_at.is_(None), Ban.expires_at > now))
            )
            return int(n or 0)


class AppealStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, appeal: Appeal) -> bool:
        """Store an appeal; False if the ban already has one."""
        async with self._db.session() as s:
            s.add(appeal)
            try:
                await s.commit()
            except IntegrityError:
                return False
            return True

    async def get(self, appeal_id: str) -> Appeal | None:
        async with self._db.session() as s:
            return await s.get(Appeal, appeal_id)

    async def list(self, status: str | None, limit: int) -> list[Appeal]:
        async with self._db.session() as s:
            q = select(Appeal).order_by(Appeal.created_at).limit(limit)
            if status is not None:
                q = q.where(Appeal.status == status)
            return list(await s.scalars(q))

    async def count(self, status: str) -> int:
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count()).select_from(Appeal).where(Appeal.status == status)
            )
            return int(n or 0)

    async def decide(
        self, appeal_id: str, status: str, at: datetime, by: str, note: str | None
    ) -> bool:
        async with self._db.session() as s:
            result = await s.execute(
                update(Appeal)
                .where(Appeal.id == appeal_id, Appeal.status == "pending")
                .values(status=status, decided_at=at, decided_by=by, note=note)
            )
            await s.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]


class FlagStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, flag: Flag) -> None:
        async with self._db.session() as s:
            s.add(flag)
            await s.commit()

    async def about(self, subject: str) -> list[Flag]:
        async with self._db.session() as s:
            return list(
                await s.scalars(
                    select(Flag).where(Flag.subject == subject).order_by(Flag.created_at)
                )
            )


class AuditStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def head(self) -> AuditEntry | None:
        async with self._db.session() as s:
            return await s.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))

    async def add(self, entry: AuditEntry) -> None:
        async with self._db.session() as s:
            s.add(entry)
            try:
                await s.commit()
            except IntegrityError as exc:
                raise ChainConflict from exc

    async def latest(self, action: str) -> AuditEntry | None:
        """The newest entry of ``action`` (e.g. the policy a setting change recorded last)."""
        async with self._db.session() as s:
            return await s.scalar(
                select(AuditEntry)
                .where(AuditEntry.action == action)
                .order_by(AuditEntry.seq.desc())
                .limit(1)
            )

    async def page(self, limit: int, before: int | None) -> list[AuditEntry]:
        async with self._db.session() as s:
            q = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
            if before is not None:
                q = q.where(AuditEntry.seq < before)
            return list(await s.scalars(q))

    async def walk(self, batch: int = 500) -> AsyncIterator[AuditEntry]:
        """Every entry in chain order, read in batches."""
        after = -1
        while True:
            async with self._db.session() as s:
                rows = list(
                    await s.scalars(
                        select(AuditEntry)
                        .where(AuditEntry.seq > after)
                        .order_by(AuditEntry.seq)
                        .limit(batch)
                    )
                )
            if not rows:
                return
            for row in rows:
                yield row
            after = rows[-1].seq
