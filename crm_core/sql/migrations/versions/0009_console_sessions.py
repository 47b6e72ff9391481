"""The console's sign-in sessions (``console_sessions``), so that agents stay signed in across a restart
or a crash of the service.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
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
    op.create_table(
        "console_sessions",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("started", sa.Float(), nullable=False),
        sa.Column("last_used", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_console_sessions"),
    )


def downgrade() -> None:
    op.drop_table("console_sessions")
