"""``switchboard demo``'s set-up: its simulated agents, the numbers its callers dial, what it seeds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from config.settings import load
from crm_core.domain.users import Role
from crm_core.sql.store import SqlStore
from routing.ids import AgentId
from switchboard import demo
from switchboard.bootstrap import normaliser

PLAN = load(Path(__file__).resolve().parents[2] / "config" / "switchboard.toml", normaliser).plan
TUESDAY_10_NY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC).timestamp()  # Acme open
TUESDAY_21_NY = datetime(2026, 12, 2, 2, 0, tzinfo=UTC).timestamp()  # Acme closed: the answering queue


def test_given_the_sample_plan_when_simulated_agents_are_added_then_they_serve_every_queue() -> None:
    plan = demo.with_simulated_agents(PLAN, 2)

    assert demo.simulated_agents(plan) == [AgentId("sim-1"), AgentId("sim-2")]
    assert all(set(plan.agents[a].queues) == set(PLAN.queues) for a in demo.simulated_agents(plan))
    assert {a: plan.agents[a] for a in PLAN.agents} == dict(PLAN.agents)  # the plan's own agents as they were


def test_given_the_hour_when_callers_pick_numbers_then_only_numbers_that_reach_a_served_queue() -> None:
    by_day = set(demo.open_numbers(PLAN, TUESDAY_10_NY))
    at_night = set(demo.open_numbers(PLAN, TUESDAY_21_NY))

    smith_after_hours = {"+18005550201"}  # rings the on-call chain: no queue, no agent
    assert "+18005550100" in by_day and "+18005550100" in at_night  # the test line never closes
    assert "+18005550103" in at_night  # Acme closed: to the answering queue, which Bob serves
    assert not smith_after_hours & at_night and smith_after_hours <= by_day


def test_given_a_person_ready_at_night_then_the_callers_dial_numbers_whose_calls_they_may_take() -> None:
    acme, answering = PLAN.agents[AgentId("1001")].queues, ("answering",)
    at_night = demo.open_numbers(PLAN, TUESDAY_21_NY, wanted=acme)

    assert at_night == ["+18005550100"]  # the test line, to Acme's queue; Acme's own go to answering
    assert set(demo.open_numbers(PLAN, TUESDAY_21_NY, wanted=answering)) == (
        set(demo.open_numbers(PLAN, TUESDAY_21_NY)) - {"+18005550100"}
    )
    # Nobody's queue open (a queue no number reaches now): every open number, as with nobody ready.
    assert demo.open_numbers(PLAN, TUESDAY_21_NY, wanted=("nowhere",)) == demo.open_numbers(
        PLAN, TUESDAY_21_NY
    )
    assert set(demo.open_numbers(PLAN, TUESDAY_10_NY, wanted=acme)) >= {"+18005550100", "+18005550103"}


async def test_given_an_empty_store_when_seeded_then_demo_customers_and_users_once(
    sqlite_store: SqlStore,
) -> None:
    store = sqlite_store

    password = await demo.seed(store, PLAN)
    again = await demo.seed(store, PLAN)

    assert password is not None and again is None  # users exist now: none made, no password told
    assert len((await store.customers.search("", limit=50)).items) == len(demo.DEMO_CUSTOMERS)
    users = {u.username: (u.role, u.agent) for u in await store.users.list()}
    assert users == {"demo-agent": (Role.AGENT, "1001"), "demo-supervisor": (Role.SUPERVISOR, None)}
    assert await store.users.check("demo-agent", password) is not None
    known = await demo.known_callers(store)
    assert {k.name for k in known} == {name for name, _, _ in demo.DEMO_CUSTOMERS}


async def test_given_a_store_with_customers_when_seeded_then_none_are_added(sqlite_store: SqlStore) -> None:
    await sqlite_store.add_customer("Ann Real", [("+14155550999", "mobile")])

    await demo.seed(sqlite_store, PLAN)

    assert [k.name for k in await demo.known_callers(sqlite_store)] == ["Ann Real"]
