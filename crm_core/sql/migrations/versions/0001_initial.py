"""The walking skeleton's store: customers, their phone numbers, and the call log.

Revision ID: 0001
Revises:
Create Date: 2024-11-23

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("tier", sa.String(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    op.create_table(
        "phone_numbers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_phone_numbers"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_phone_numbers_customer_id_customers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_phone_numbers_customer_id", "phone_numbers", ["customer_id"])
    op.create_index("ix_phone_numbers_e164", "phone_numbers", ["e164"])
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("did", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("line_id", sa.String(), nullable=True),
        sa.Column("line_name", sa.String(), nullable=True),
        sa.Column("queue_id", sa.String(), nullable=True),
        sa.Column("caller_number", sa.String(), nullable=True),
        sa.Column("caller_name", sa.String(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.String(), nullable=True),
        _timestamp("arrived_at"),
        _timestamp("answered_at", nullable=True),
        _timestamp("ended_at"),
        sa.Column("wait_s", sa.Float(), nullable=False),
        sa.Column("talk_s", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("hung_up_by", sa.String(), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_calls"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_calls_customer_id_customers",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_calls_caller_number", "calls", ["caller_number"])
    op.create_index("ix_calls_customer_id", "calls", ["customer_id"])
    op.create_index("ix_calls_agent_id", "calls", ["agent_id"])
    op.create_index("ix_calls_arrived_at", "calls", ["arrived_at"])


def downgrade() -> None:
    op.drop_table("calls")
    op.drop_table("phone_numbers")
    op.drop_table("customers")
