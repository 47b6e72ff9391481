"""Supervisors' orders (set an agent not ready, log them out, listen to a call...), who gave them and how
they ended, kept for good: "every action is recorded with who did it".

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supervisor_actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_supervisor_actions"),
    )
    op.create_index("ix_supervisor_actions_at", "supervisor_actions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_supervisor_actions_at", table_name="supervisor_actions")
    op.drop_table("supervisor_actions")
