"""Each delivery names the call its message was taken on: ``deliveries.call_id`` (indexed), so a console
that reconnects reads the deliveries of the calls it shows without scanning the queue (issue 15). Rows
queued before it take the call from their content, where the console's desk has always written it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08

Written by hand to match ``crm_core.orm``; ``test_crm_migrations`` compares the two on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

deliveries = sa.table("deliveries", sa.column("id", sa.Integer), sa.column("content", sa.String),
                      sa.column("call_id", sa.String))  # fmt: skip
select_page = sa.select(deliveries.c.id, deliveries.c.content)
PAGE = 1000


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("call_id", sa.String(), nullable=True))
        batch.create_index("ix_deliveries_call_id", ["call_id"])
    # In Python rather than SQL: SQLite and PostgreSQL read JSON in text columns differently. The content
    # is always a JSON object (SqlDeliveries.enqueue writes it).
    bind = op.get_bind()
    after = 0
    while True:  # a page at a time: a busy center's queue does not fit in memory at once
        page = select_page.where(deliveries.c.id > after).order_by(deliveries.c.id).limit(PAGE)
        rows = bind.execute(page).all()
        if not rows:
            return
        for row in rows:
            call = json.loads(row.content).get("call")
            if isinstance(call, str):
                bind.execute(deliveries.update().where(deliveries.c.id == row.id).values(call_id=call))
        after = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_call_id")
        batch.drop_column("call_id")
