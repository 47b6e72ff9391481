"""The answering service's on-call schedules: a business's people and their contacts, its schedule (time
zone), rotations and their turns, overrides, and the audit of every change to them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oncall_people",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("business", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("patch", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oncall_people"),
    )
    op.create_index("ix_oncall_people_business", "oncall_people", ["business"])
    op.create_table(
        "oncall_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["oncall_people.id"],
            name="fk_oncall_contacts_person_id_oncall_people",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oncall_contacts"),
    )
    op.create_index("ix_oncall_contacts_person_id", "oncall_contacts", ["person_id"])
    op.create_table(
        "oncall_schedules",
        sa.Column("business", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("business", name="pk_oncall_schedules"),
    )
    op.create_table(
        "oncall_rotations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("business", sa.String(), nullable=False),
        sa.Column("tier", sa.String(), nullable=False),
        sa.Column("cadence", sa.String(), nullable=False),
        sa.Column("handoff", sa.String(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["business"],
            ["oncall_schedules.business"],
            name="fk_oncall_rotations_business_oncall_schedules",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oncall_rotations"),
    )
    op.create_index("ix_oncall_rotations_business", "oncall_rotations", ["business", "tier"], unique=True)
    op.create_table(
        "oncall_turns",
        sa.Column("rotation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rotation_id"],
            ["oncall_rotations.id"],
            name="fk_oncall_turns_rotation_id_oncall_rotations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["oncall_people.id"],
            name="fk_oncall_turns_person_id_oncall_people",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("rotation_id", "position", name="pk_oncall_turns"),
    )
    op.create_index("ix_oncall_turns_person_id", "oncall_turns", ["person_id"])
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("business", sa.String(), nullable=False),
        sa.Column("tier", sa.String(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["business"],
            ["oncall_schedules.business"],
            name="fk_oncall_overrides_business_oncall_schedules",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["oncall_people.id"],
            name="fk_oncall_overrides_person_id_oncall_people",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oncall_overrides"),
    )
    op.create_index("ix_oncall_overrides_business", "oncall_overrides", ["business", "tier", "starts_at"])
    op.create_index("ix_oncall_overrides_person_id", "oncall_overrides", ["person_id"])
    op.create_table(
        "oncall_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("business", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oncall_changes"),
    )
    op.create_index("ix_oncall_changes_business", "oncall_changes", ["business", "at"])


def downgrade() -> None:
    # Children before the tables they point at.
    for table in (
        "oncall_changes", "oncall_overrides", "oncall_turns", "oncall_rotations", "oncall_schedules",
        "oncall_contacts", "oncall_people",
    ):  # fmt: skip
        op.drop_table(table)
