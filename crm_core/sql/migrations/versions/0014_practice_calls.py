"""Practice calls: ``calls.practice``, ``demo`` for a call of ``switchboard demo``'s simulated callers,
``training`` for a simulated call placed for an agent in training; NULL for a real call. Reports and
service levels count only the real ones. Calls logged before it read as real (NULL).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("practice", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("practice")
