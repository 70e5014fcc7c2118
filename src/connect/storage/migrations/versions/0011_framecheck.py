"""frame moderation: automatic reports, their scores, false positives

``reports`` gains ``source`` ("user", or "auto" for a report the frame
classifier filed), ``scores`` (the flagged labels' scores of an automatic
report) and ``false_positive`` (a moderator marked the automatic report wrong).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 06:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=8), nullable=False, server_default="user")
        )
        batch_op.add_column(sa.Column("scores", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("false_positive", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("false_positive")
        batch_op.drop_column("scores")
        batch_op.drop_column("source")
