"""attachment quota and janitor

Indexes only: the per-account upload quota sums attachment sizes by
uploader, and the janitor reads attachments by age and asks whether any
message references each one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 02:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachments_uploader_id"), ["uploader_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attachments_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_messages_attachment_id"), ["attachment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_attachment_id"))
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_created_at"))
        batch_op.drop_index(batch_op.f("ix_attachments_uploader_id"))
