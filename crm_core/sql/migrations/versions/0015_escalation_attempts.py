"""Escalation attempts (issue 16): ``escalation_attempts``, one row for each on-call person rung for an
escalated call: who, which number, round and place in the chain, when the ring began and ended, and
the result. Written by the recorder from the router's ``EscalationAttempt``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalation_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.String(), nullable=False),
    )
    op.create_index("ix_escalation_attempts_call_id", "escalation_attempts", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_escalation_attempts_call_id", "escalation_attempts")
    op.drop_table("escalation_attempts")
