"""contact safety (blocks, conversation reports)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 02:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("blocker_id", sa.String(length=32), nullable=False),
        sa.Column("blocked_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["blocker_id"],
            ["accounts.id"],
            name=op.f("fk_blocks_blocker_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["blocked_id"],
            ["accounts.id"],
            name=op.f("fk_blocks_blocked_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name=op.f("pk_blocks")),
    )
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blocks_blocked_id"), ["blocked_id"], unique=False)

    # Reports filed from a contacts conversation have no stranger session.
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("session_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("channel_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("reported_account_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_reports_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reports_reported_account_id"), ["reported_account_id"], unique=False
        )


def downgrade() -> None:
    op.execute("DELETE FROM reports WHERE session_id IS NULL")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_reported_account_id"))
        batch_op.drop_index(batch_op.f("ix_reports_channel_id"))
        batch_op.drop_column("reported_account_id")
        batch_op.drop_column("message_id")
        batch_op.drop_column("channel_id")
        batch_op.alter_column("session_id", existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blocks_blocked_id"))
    op.drop_table("blocks")
