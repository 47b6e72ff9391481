"""The router's journal and snapshot (``router_journal``, ``router_snapshots``): what a restart of the
service reads back so that waiting callers keep their place and live calls stay connected.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-04

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "router_journal",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_router_journal"),
    )
    op.create_table(
        "router_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("plan_key", sa.String(), nullable=False),
        sa.Column("taken_at", sa.Float(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_router_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("router_snapshots")
    op.drop_table("router_journal")
