"""The call log learns what the full ACD reports: priority, after hours, on-call person, recording, callback.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
Calls logged before this revision get priority 0, after_hours false and no on-call person, recording or
callback origin: the server defaults fill them in as the columns are added.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("after_hours", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("on_call", sa.String(), nullable=True))
        batch.add_column(sa.Column("recording", sa.String(), nullable=True))
        batch.add_column(sa.Column("callback_of", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("callback_of")
        batch.drop_column("recording")
        batch.drop_column("on_call")
        batch.drop_column("after_hours")
        batch.drop_column("priority")
