"""Each agent's stretch of a transferred call links to its call; every agent state interval is a row.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
``calls.part_of``: for the record of one agent's stretch of a call they handed on (a transfer, an
escalation), the call it was part of. ``agent_states``: one row per interval an agent spent in a state
(with the pause reason), so occupancy and state times survive a restart and can be recomputed for any day.
An interval still running has no ``ended_at``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("part_of", sa.String(), nullable=True))
        batch.create_index("ix_calls_part_of", ["part_of"])
    op.create_table(
        "agent_states",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("agent_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agent_states"),
    )
    op.create_index("ix_agent_states_agent_id", "agent_states", ["agent_id"])
    op.create_index("ix_agent_states_started_at", "agent_states", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_agent_states_started_at", table_name="agent_states")
    op.drop_index("ix_agent_states_agent_id", table_name="agent_states")
    op.drop_table("agent_states")
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_part_of")
        batch.drop_column("part_of")
