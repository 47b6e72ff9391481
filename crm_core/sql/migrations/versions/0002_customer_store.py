"""The shared customer store: full customer profiles, accounts, orders, cases with history, call wrap-up.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
Column changes go through ``batch_alter_table``, which rebuilds the table on SQLite (it cannot add a
foreign key or drop a column in place) and issues plain ALTERs on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(name: str, *, nullable: bool = False) -> sa.Column[Decimal]:
    return sa.Column(name, sa.Numeric(14, 2), nullable=nullable)


def _customer_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["customer_id"], ["customers.id"], name=f"fk_{table}_customer_id_customers", ondelete="CASCADE"
    )


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("language", sa.String(), nullable=True))
        batch.add_column(sa.Column("tags", sa.String(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("notes", sa.String(), nullable=True))
        batch.add_column(sa.Column("external_id", sa.String(), nullable=True))
        batch.add_column(_timestamp("anonymised_at", nullable=True))
        batch.add_column(sa.Column("search_text", sa.String(), nullable=False, server_default=""))
    op.create_index("ix_customers_external_id", "customers", ["external_id"], unique=True)
    # Rows from 0001 have no search text yet; ASCII lower-casing matches Python's casefold on ASCII names.
    op.execute(
        "UPDATE customers SET search_text = lower(name || coalesce(char(10) || company, '')"
        " || coalesce(char(10) || email, ''))"
        if op.get_context().dialect.name == "sqlite"
        else "UPDATE customers SET search_text = lower(name || coalesce(chr(10) || company, '')"
        " || coalesce(chr(10) || email, ''))"
    )

    op.create_table(
        "accounts",
        sa.Column("customer_id", sa.Integer(), nullable=False, autoincrement=False),
        _money("balance"),
        sa.Column("currency", sa.String(), nullable=False),
        _money("credit_limit"),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("last_payment_on", sa.Date(), nullable=True),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("customer_id", name="pk_accounts"),
        _customer_fk("accounts"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("ordered_on", sa.Date(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _money("amount"),
        _money("special_price", nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        _customer_fk("orders"),
    )
    op.create_index("ix_orders_customer_id", "orders", ["customer_id", "ordered_on"])
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        _timestamp("due_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        _customer_fk("cases"),
    )
    op.create_index("ix_cases_customer_id", "cases", ["customer_id"])
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_index("ix_cases_owner", "cases", ["owner"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("author", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("changes", sa.String(), nullable=True),
        sa.Column("comment", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_events_case_id_cases", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])

    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("disposition", sa.String(), nullable=True))
        batch.add_column(sa.Column("agent_notes", sa.String(), nullable=True))
        batch.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_calls_case_id_cases", "cases", ["case_id"], ["id"], ondelete="SET NULL")
    op.create_index("ix_calls_case_id", "calls", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_calls_case_id", table_name="calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_constraint("fk_calls_case_id_cases", type_="foreignkey")
        batch.drop_column("case_id")
        batch.drop_column("agent_notes")
        batch.drop_column("disposition")
    op.drop_table("case_events")
    op.drop_table("cases")
    op.drop_table("orders")
    op.drop_table("accounts")
    op.drop_index("ix_customers_external_id", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("search_text")
        batch.drop_column("anonymised_at")
        batch.drop_column("external_id")
        batch.drop_column("notes")
        batch.drop_column("tags")
        batch.drop_column("language")
