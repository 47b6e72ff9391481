"""Why a call ended, where its end was not seen as it happened: ``calls.end_reason`` (``pbx-restart``:
Asterisk restarted under it; ``unseen``: it ended while the service was down or cut off from Asterisk).
Calls logged before it read as seen (NULL).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
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
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("end_reason", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("end_reason")
