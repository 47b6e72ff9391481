"""A pop whose caller is not looked up yet, for an agent with no tab here (a cluster's follower, where the
agent's console is on another instance; a desk with no console open): no store read for it until a tab
of that agent joins, which then gets the pop pending and the record after it."""

from __future__ import annotations

import asyncio

from routing.ids import AgentId, CallId
from tests.agent_console.harness import JANE_NUMBER, Console, next_of, ready


async def _ready_and_gone(console: Console) -> None:
    """a1 ready, and its only tab closed (the agent stays signed in)."""
    tab = await console.ws()
    await ready(tab)
    await tab.close()
    for _ in range(100):
        if not console.hub.present(AgentId("a1")):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the closed tab is still there")


async def test_given_no_tab_of_the_agent_here_when_its_phone_rings_then_the_lookup_waits_for_a_tab(
    console: Console,
) -> None:
    console.directory.slow = True  # the lookup started at the arrival has not finished by the ring
    await _ready_and_gone(console)
    console.ring()
    await asyncio.sleep(0.1)
    assert console.directory.lookups == []

    tab = await console.ws()
    shown = tab.snapshot["call"]["offer"]
    assert shown["customer_pending"] is True and shown["caller"]["number"] == JANE_NUMBER
    assert console.directory.lookups == [CallId("c1")]
    console.directory.release.set()
    record = await next_of(tab, "offer-customer")
    assert record["offer"] == shown["offer"] and record["customer"]["name"] == "Jane Doe"
    again = await console.ws()  # a second tab now gets it whole, and starts no lookup of its own
    assert again.snapshot["call"]["offer"]["customer"]["name"] == "Jane Doe"
    assert console.directory.lookups == [CallId("c1")]


async def test_given_two_tabs_joining_while_the_record_is_looked_up_then_one_lookup_serves_both(
    console: Console,
) -> None:
    console.directory.slow = True
    await _ready_and_gone(console)
    console.ring()
    await asyncio.sleep(0.1)
    first, second = await console.ws(), await console.ws()
    assert console.directory.lookups == [CallId("c1")]
    console.directory.release.set()
    for tab in (first, second):
        assert (await next_of(tab, "offer-customer"))["customer"]["name"] == "Jane Doe"
