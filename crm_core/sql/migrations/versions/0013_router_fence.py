"""The journal's fence (``router_fence``): the token of the newest leadership that started on this store.
Several instances: a journal write carries its leader's token and is refused once a newer leader has
raised the fence, so a deposed leader's late lines never land behind the new leader's start, while its
lines written before that are kept (they are history: Asterisk may have been told to do them).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "router_fence",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("instance", sa.String(), nullable=False),
        sa.Column("raised_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("router_fence")
