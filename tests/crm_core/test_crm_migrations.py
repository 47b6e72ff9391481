"""The Alembic migrations, against SQLite and PostgreSQL: from nothing to ``orm``'s schema and back."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from crm_core.engine import open_engine
from crm_core.migrate import downgrade, upgrade_async
from crm_core.orm import Base

CRM_TABLES = {"customers", "phone_numbers", "calls"}


async def _inspect(url: str) -> tuple[set[str], dict[str, set[str]], list[object]]:
    """Tables, index names per crm table, and how the schema differs from ``orm`` (empty: it matches)."""

    def read(connection: Connection) -> tuple[set[str], dict[str, set[str]], list[object]]:
        inspector = inspect(connection)
        tables = set(inspector.get_table_names())
        indexes = {
            table: {str(index["name"]) for index in inspector.get_indexes(table)}
            for table in tables & CRM_TABLES
        }
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        return tables, indexes, differences

    engine = open_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def test_given_empty_database_when_upgraded_then_schema_matches_the_orm(
    empty_database_url: str,
) -> None:
    await upgrade_async(empty_database_url)

    tables, indexes, differences = await _inspect(empty_database_url)
    assert tables == CRM_TABLES | {"alembic_version"}
    assert indexes == {
        "customers": set(),
        "phone_numbers": {"ix_phone_numbers_customer_id", "ix_phone_numbers_e164"},
        "calls": {
            "ix_calls_caller_number",
            "ix_calls_customer_id",
            "ix_calls_agent_id",
            "ix_calls_arrived_at",
        },
    }
    assert differences == []


async def test_given_migrated_database_when_upgraded_again_then_nothing_changes(database_url: str) -> None:
    before = await _inspect(database_url)

    await upgrade_async(database_url)

    assert await _inspect(database_url) == before


async def test_given_migrated_database_when_downgraded_to_base_then_no_crm_tables_and_upgrade_works(
    database_url: str,
) -> None:
    await asyncio.to_thread(downgrade, database_url, "base")

    tables, _, _ = await _inspect(database_url)
    assert tables & CRM_TABLES == set()

    await upgrade_async(database_url)
    tables, _, differences = await _inspect(database_url)
    assert tables >= CRM_TABLES
    assert differences == []
