"""Durable storage of reports."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.exc import IntegrityError

from connect.storage.db import Database
from connect.storage.models import Report


class DuplicateReport(Exception):
    """This reporter already reported this session."""


class ReportStore(Protocol):
    async def add(self, report: Report) -> None: ...


class SqlReportStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, report: Report) -> None:
        async with self._db.session() as s:
            s.add(report)
            try:
                await s.commit()
            except IntegrityError as exc:
                raise DuplicateReport from exc
