"""A callback's confirmation is said only once its booking is in the router's journal: a process killed
in between leaves a caller who heard nothing yet, not one told of a callback nobody will make."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Coroutine
from pathlib import Path
from typing import Any

from routing import commands as cmd
from routing import events as ev
from routing.ids import CallId
from routing.router import Router
from switchboard.bootstrap import Service
from switchboard.journal import Journal
from switchboard.promises import KeptBeforeSaid
from telephony.pbx import PracticeCall
from tests.switchboard.gated_journal import GatedJournalStore, gated_service, settle
from tests.switchboard.test_journal import A1, plan

CALL = CallId("c1")
CONFIRMED = cmd.EndCall(CALL, (CALL,), None, cmd.CALLBACK_CONFIRMED)


class RecordingPbx:
    """The PBX port, keeping what it is told to do."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.executed: list[cmd.PbxCommand] = []

    def adopt(self, channels: Collection[str], as_of: float | None = None) -> None:
        pass

    def execute(self, command: cmd.PbxCommand) -> None:
        self.executed.append(command)

    async def run(self) -> None:
        await asyncio.get_running_loop().create_future()

    def place_practice_call(self, practice: PracticeCall) -> None:
        pass

    async def idle(self) -> None:
        pass


async def test_given_a_callback_confirmed_then_it_is_said_once_the_journal_holds_the_booking() -> None:
    store = GatedJournalStore()
    journal, router = Journal(store, lambda: 0.0, flush_s=0.001), Router(plan(A1))
    said: list[cmd.PbxCommand] = []
    promised = KeptBeforeSaid(journal, said.append, lambda: True)
    writer = asyncio.create_task(journal.run())
    try:
        journal.record(ev.CallbackRequested(CALL, 5.0), router)  # the booking, not yet written
        other = cmd.EndCall(CallId("c2"), (CallId("c2"),), None, cmd.GOODBYE)
        promised(CONFIRMED)
        promised(other)  # no promise in it: at once
        assert said == [other]
        await settle()
        assert said == [other]
        store.gate.set()
        assert await asyncio.wait_for(promised.idle(), 5)  # one was held
        assert said == [other, CONFIRMED] and len(store.lines) == 1
        assert not await promised.idle()  # none now
    finally:
        writer.cancel()


async def test_given_leadership_lost_while_the_booking_was_written_then_the_confirmation_is_not_said() -> (
    None
):
    store = GatedJournalStore()
    journal, router = Journal(store, lambda: 0.0, flush_s=0.001), Router(plan(A1))
    said: list[cmd.PbxCommand] = []
    leading = [True]
    promised = KeptBeforeSaid(journal, said.append, lambda: leading[0])
    writer = asyncio.create_task(journal.run())
    try:
        journal.record(ev.CallbackRequested(CALL, 5.0), router)
        promised(CONFIRMED)
        leading[0] = False  # stood down: the new leader's reconcile hangs the caller up
        store.gate.set()
        await asyncio.wait_for(promised.idle(), 5)
        assert said == []
    finally:
        writer.cancel()


async def test_given_no_journal_then_the_confirmation_is_said_at_once() -> None:
    said: list[cmd.PbxCommand] = []
    KeptBeforeSaid(None, said.append, lambda: True)(CONFIRMED)
    assert said == [CONFIRMED]


async def test_given_the_service_then_its_pbx_hears_the_confirmation_after_the_journal_write(
    tmp_path: Path,
) -> None:
    pbx = RecordingPbx()

    def running(s: Service) -> tuple[Callable[[], Coroutine[Any, Any, None]], ...]:
        assert s.journal is not None
        return (s.journal.run,)

    async with gated_service(tmp_path, running, lambda submit, clock: pbx) as (service, _, gated):
        assert service.journal is not None
        service.journal.record(ev.CallbackRequested(CALL, 5.0), service.router)
        service.bus.publish(CONFIRMED)  # as the router's turn on that event would
        await settle()
        assert CONFIRMED not in pbx.executed
        gated.gate.set()
        await asyncio.wait_for(service.promised.idle(), 5)
        assert pbx.executed[-1] == CONFIRMED
