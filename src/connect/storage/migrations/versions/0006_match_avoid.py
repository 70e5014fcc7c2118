"""strangers never-again memory

Intentionally empty: the avoid lists live in the matching store (Redis, kept by
its AOF; the process for a single node), because the pairing that reads them
runs inside one Redis Lua script, which cannot consult SQL. They are bounded,
expiring preferences; the reports behind most of them are in the database.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 02:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
