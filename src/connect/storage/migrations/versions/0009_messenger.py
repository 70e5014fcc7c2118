"""messenger: presence, receipts, edits, deletes, replies, call records

Messages gain a read time (receipts survive reloads), an edit time, a
delete-for-everyone tombstone time and the id of the message they quote.
``presence`` keeps each account's visibility and last-seen time (never
whether it is online: that is read from the gateway registry).
``call_events`` and ``call_samples`` are the per-call record and the
client-reported quality it is summarised from.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 03:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reply_to_id", sa.String(length=32), nullable=True))
    op.create_table(
        "presence",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_presence_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_presence")),
    )
    op.create_table(
        "call_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_events_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_events")),
    )
    with op.batch_alter_table("call_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_events_call_id"), ["call_id"], unique=False)
    op.create_table(
        "call_samples",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ice_state", sa.String(length=16), nullable=False),
        sa.Column("candidate_type", sa.String(length=8), nullable=True),
        sa.Column("rtt_ms", sa.Float(), nullable=True),
        sa.Column("loss_pct", sa.Float(), nullable=True),
        sa.Column("bitrate_kbps", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_samples_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_samples")),
    )
    with op.batch_alter_table("call_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_samples_call_id"), ["call_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_samples_call_id"))
    op.drop_table("call_samples")
    with op.batch_alter_table("call_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_events_call_id"))
    op.drop_table("call_events")
    op.drop_table("presence")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("reply_to_id")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("read_at")
