"""typed subjects in reports, flags and the audit log's targets

Guests and accounts used to be told apart only by token kind, and their bare
ids overlap. Reports and abuse flags now store the typed subject
(``guest:<device>`` / ``user:<account>``); existing rows are prefixed by what
they were (``reported_kind``; reporters and flags have only ever been guests).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 02:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WIDE = sa.String(length=80)
_NARROW = sa.String(length=64)


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.alter_column("reporter_subject", type_=_WIDE, existing_type=_NARROW)
        batch.alter_column("reported_subject", type_=_WIDE, existing_type=_NARROW)
    with op.batch_alter_table("flags") as batch:
        batch.alter_column("subject", type_=_WIDE, existing_type=_NARROW)
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("target_id", type_=_WIDE, existing_type=_NARROW)
    op.execute(
        "UPDATE reports SET reporter_subject = 'guest:' || reporter_subject "
        "WHERE reporter_subject NOT LIKE 'guest:%' AND reporter_subject NOT LIKE 'user:%'"
    )
    op.execute(
        "UPDATE reports SET reported_subject = "
        "CASE WHEN reported_kind = 'access' THEN 'user:' ELSE 'guest:' END || reported_subject "
        "WHERE reported_subject NOT LIKE 'guest:%' AND reported_subject NOT LIKE 'user:%'"
    )
    op.execute(
        "UPDATE flags SET subject = 'guest:' || subject "
        "WHERE subject NOT LIKE 'guest:%' AND subject NOT LIKE 'user:%'"
    )


def downgrade() -> None:
    for table, column in (
        ("reports", "reporter_subject"),
        ("reports", "reported_subject"),
        ("flags", "subject"),
    ):
        op.execute(
            f"UPDATE {table} SET {column} = substr({column}, instr({column}, ':') + 1)"  # noqa: S608
            if op.get_context().dialect.name == "sqlite"
            else f"UPDATE {table} SET {column} = split_part({column}, ':', 2)"  # noqa: S608
        )
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("target_id", type_=_NARROW, existing_type=_WIDE)
    with op.batch_alter_table("flags") as batch:
        batch.alter_column("subject", type_=_NARROW, existing_type=_WIDE)
    with op.batch_alter_table("reports") as batch:
        batch.alter_column("reporter_subject", type_=_NARROW, existing_type=_WIDE)
        batch.alter_column("reported_subject", type_=_NARROW, existing_type=_WIDE)
