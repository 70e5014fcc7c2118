"""sessions and my data: device labels, last use of a login, deleted accounts

``login_families`` gains the short browser label derived from the
User-Agent at login (never the User-Agent itself) and the time of the last
refresh, so a user can see and end their signed-in devices. ``accounts``
gains ``deleted_at``: a deleted account's row stays (messages it sent stay
in the other side's conversations, bans and audit entries keep naming it)
but its profile is wiped.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 03:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("login_families", schema=None) as batch_op:
        batch_op.add_column(sa.Column("browser", sa.String(length=48), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
    with op.batch_alter_table("login_families", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("browser")
