"""A follower's part when a call ends (several instances): forget the caller it looked up, and name the
customer an agent attached on this instance, once the leader has logged the call. Real SQLite store."""

from __future__ import annotations

import asyncio

from crm_core.domain.customers import CustomerDraft
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing.ids import CallId
from switchboard.callers import CallerCache
from switchboard.followed_calls import FollowedCalls
from tests.support import radio_call


async def test_given_a_customer_attached_on_a_follower_then_the_leaders_row_ends_up_naming_it(
    sqlite_store: SqlStore,
) -> None:
    store = sqlite_store
    mary = await store.customers.create(CustomerDraft(name="Mary Major", phones=[("+12125550100", "mobile")]))
    callers = CallerCache(store, store)
    followed = FollowedCalls(callers, store)
    record = radio_call("c1")  # from +14155550123: nobody the leader's own lookup finds
    callers.prefetch(CallId("c1"), record.caller_number)
    callers.attach(CallId("c1"), await store.overview(mary.id))

    followed.notice(cmd.LogCall(record))  # the follower's router saw the call end, before the leader wrote it
    await asyncio.sleep(0.3)
    await store.record(record, None)  # the leader writes the call as its lookup found it
    await asyncio.wait_for(followed.idle(), 5)

    logged = await store.get_call("c1")
    assert logged is not None and logged.customer_id == mary.id
    assert not callers.live(CallId("c1"))  # nothing kept for a call that is over


async def test_given_no_attachment_then_the_follower_writes_nothing_and_forgets_the_caller(
    sqlite_store: SqlStore,
) -> None:
    callers = CallerCache(sqlite_store, sqlite_store)
    followed = FollowedCalls(callers, sqlite_store)
    callers.prefetch(CallId("c2"), "+14155550123")
    followed.notice(cmd.LogCall(radio_call("c2")))
    await followed.idle()
    assert not callers.live(CallId("c2")) and await sqlite_store.get_call("c2") is None
