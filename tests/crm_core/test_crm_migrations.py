"""The Alembic migrations, against SQLite and PostgreSQL: from nothing to ``orm``'s schema and back."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, insert, inspect, text

from crm_core.domain.calls import LoggedCall
from crm_core.sql.delivery_rows import DeliveryRow
from crm_core.sql.engine import open_engine
from crm_core.sql.migrate import HEAD, alembic_config, downgrade, revision, upgrade_async
from crm_core.sql.orm import Base, CallRow
from crm_core.sql.rows import call_columns
from crm_core.sql.store import SqlStore
from routing.ids import CallId
from routing.records import CallRecord

CRM_TABLES = {
    "customers", "phone_numbers", "calls", "accounts", "orders", "cases", "case_events", "users",
    "agent_states", "supervisor_actions", "router_journal", "router_snapshots", "console_sessions",
    "oncall_people", "oncall_contacts", "oncall_schedules", "oncall_rotations", "oncall_turns",
    "oncall_overrides", "oncall_changes", "deliveries", "delivery_changes", "router_fence",
    "escalation_attempts",
}  # fmt: skip


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
        "customers": {"ix_customers_external_id"},
        "phone_numbers": {"ix_phone_numbers_customer_id", "ix_phone_numbers_e164"},
        "calls": {
            "ix_calls_caller_number",
            "ix_calls_customer_id",
            "ix_calls_agent_id",
            "ix_calls_arrived_at",
            "ix_calls_case_id",
            "ix_calls_part_of",
        },
        "accounts": set(),
        "orders": {"ix_orders_customer_id"},
        "cases": {"ix_cases_customer_id", "ix_cases_status", "ix_cases_owner"},
        "case_events": {"ix_case_events_case_id"},
        "users": {"ix_users_username"},
        "agent_states": {"ix_agent_states_agent_id", "ix_agent_states_started_at"},
        "supervisor_actions": {"ix_supervisor_actions_at"},
        "router_journal": set(),
        "router_snapshots": set(),
        "router_fence": set(),
        "console_sessions": set(),
        "oncall_people": {"ix_oncall_people_business"},
        "oncall_contacts": {"ix_oncall_contacts_person_id"},
        "oncall_schedules": set(),
        "oncall_rotations": {"ix_oncall_rotations_business"},
        "oncall_turns": {"ix_oncall_turns_person_id"},
        "oncall_overrides": {"ix_oncall_overrides_business", "ix_oncall_overrides_person_id"},
        "oncall_changes": {"ix_oncall_changes_business"},
        "deliveries": {"ix_deliveries_message_id", "ix_deliveries_status", "ix_deliveries_call_id"},
        "delivery_changes": {"ix_delivery_changes_delivery_id"},
        "escalation_attempts": {"ix_escalation_attempts_call_id"},
    }
    assert differences == []


def test_given_the_migrations_then_head_names_the_newest() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() == HEAD


async def test_given_a_database_then_its_revision_is_none_before_and_head_after_the_upgrade(
    empty_database_url: str,
) -> None:
    assert await revision(empty_database_url) is None
    await upgrade_async(empty_database_url)
    assert await revision(empty_database_url) == HEAD
    await asyncio.to_thread(downgrade, empty_database_url, "0009")
    assert await revision(empty_database_url) == "0009"
    await upgrade_async(empty_database_url)  # not at head: Alembic runs
    assert await revision(empty_database_url) == HEAD


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


async def test_given_skeleton_data_when_upgraded_to_0002_then_customers_and_calls_still_read_and_searchable(
    empty_database_url: str,
) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(empty_database_url), "0001")
    engine = open_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO customers (id, name, company, email, tier, created_at, updated_at)"
                    " VALUES (1, 'Ann LEE', 'Acme', NULL, 'vip', :at, :at)"
                ),
                {"at": datetime(2024, 1, 1, tzinfo=UTC).replace(tzinfo=None)},
            )
            await connection.execute(
                text(
                    "INSERT INTO phone_numbers (customer_id, e164, kind) VALUES (1, '+14155550123', 'mobile')"
                )
            )
    finally:
        await engine.dispose()

    await upgrade_async(empty_database_url)

    store = SqlStore.open(empty_database_url, "US")
    try:
        card = await store.find_by_number("+14155550123")
        found = await store.customers.search("ann lee")
    finally:
        await store.close()
    assert card is not None and (card.name, card.tier, card.account) == ("Ann LEE", "vip", None)
    assert [customer.tags for customer in found.items] == [()]


async def test_given_0002_database_when_downgraded_to_0001_then_skeleton_schema_and_data_remain(
    database_url: str,
) -> None:
    store = SqlStore.open(database_url, "US")
    try:
        added = await store.add_customer("Ann", [("+14155550123", "mobile")])
    finally:
        await store.close()

    await asyncio.to_thread(downgrade, database_url, "0001")

    tables, indexes, _ = await _inspect(database_url)
    assert tables == {"customers", "phone_numbers", "calls", "alembic_version"}
    assert "ix_calls_case_id" not in indexes["calls"]
    engine = open_engine(database_url)
    try:
        async with engine.connect() as connection:
            names = (await connection.execute(text("SELECT name FROM customers"))).scalars().all()
    finally:
        await engine.dispose()
    assert names == [added.name]


async def test_given_a_call_logged_at_0002_when_upgraded_then_it_reads_with_the_acd_defaults(
    empty_database_url: str, answered_call: CallRecord
) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(empty_database_url), "0002")
    old = LoggedCall.from_record(answered_call, None)
    columns = {
        name: value
        for name, value in call_columns(old).items()
        if name
        not in {
            "priority",
            "after_hours",
            "on_call",
            "recording",
            "callback_of",
            "part_of",
            "end_reason",
        }  # added after 0002
    }
    engine = open_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(CallRow.__table__).values(columns))
    finally:
        await engine.dispose()

    await upgrade_async(empty_database_url)

    store = SqlStore.open(empty_database_url, "US")
    try:
        logged = await store.get_call(answered_call.call)
        await store.record(replace(answered_call, call=CallId("new"), after_hours=True, priority=3), None)
        night = await store.get_call("new")
    finally:
        await store.close()
    assert logged == old
    assert logged is not None
    r = logged.record
    assert (r.priority, r.after_hours, r.on_call, r.recording, r.callback_of) == (
        0,
        False,
        None,
        None,
        None,
    )
    assert night is not None and (night.record.priority, night.record.after_hours) == (3, True)


async def test_given_0003_database_when_downgraded_to_0002_then_the_acd_columns_go_and_calls_remain(
    database_url: str, answered_call: CallRecord
) -> None:
    store = SqlStore.open(database_url, "US")
    try:
        await store.record(replace(answered_call, after_hours=True, on_call="Dr. Smith"), None)
    finally:
        await store.close()

    await asyncio.to_thread(downgrade, database_url, "0002")

    engine = open_engine(database_url)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {column["name"] for column in inspect(sync).get_columns("calls")}
            )
            ids = (await connection.execute(text("SELECT call_id FROM calls"))).scalars().all()
    finally:
        await engine.dispose()
    assert columns.isdisjoint({"priority", "after_hours", "on_call", "recording", "callback_of"})
    assert ids == [answered_call.call]


async def test_given_deliveries_queued_at_0015_when_upgraded_then_found_by_the_call_their_content_names(
    empty_database_url: str,
) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(empty_database_url), "0015")
    at = datetime(2026, 12, 7, 20, tzinfo=UTC)
    columns = {"business": "smith", "channel": "email", "recipient": "desk@example.com", "status": "queued",
               "attempts": 0, "next_attempt_at": at, "created_at": at, "updated_at": at}  # fmt: skip
    contents = ['{"call": "c1", "case_id": 7}', '{"case_id": 8}', '{"call": null, "case_id": 9}']
    engine = open_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            for n, content in enumerate(contents):
                values = columns | {"message_id": 7 + n, "content": content}
                await connection.execute(insert(DeliveryRow).values(values))  # no call_id yet
    finally:
        await engine.dispose()

    await upgrade_async(empty_database_url)

    store = SqlStore.open(empty_database_url, "US")
    try:
        found = await store.deliveries.of_calls(["c1"])
    finally:
        await store.close()
    assert [d.message_id for d in found] == [7]
