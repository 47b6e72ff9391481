"""A caller is told their callback is booked only once the booking is in the journal.

The router books a callback and ends the call with ``CALLBACK_CONFIRMED`` ("thank you, goodbye") in one
turn; the journal keeps that turn's event up to ``FLUSH_S`` (20 ms) later. A process killed in between
came back without the booking, after the caller had heard it confirmed: nobody called them back. So
that one command waits for the journal (``Journal.kept_through``): killed before, the caller heard nothing
yet, is still waiting in the queue as the restarted router has them, and may press 1 again. The wait is
the journal's next write, not noticeable before a goodbye. Every other command goes to the PBX at once
(the PBX is the truth about channels, and the restart compares with it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from routing import commands as cmd
from switchboard.journal import WriteAhead


def promises(command: cmd.PbxCommand) -> bool:
    """Whether carrying ``command`` out tells the caller something the journal must hold first."""
    return isinstance(command, cmd.EndCall) and command.farewell == cmd.CALLBACK_CONFIRMED


class KeptBeforeSaid:
    """``__call__`` hands a command to ``execute``: at once, or, for a promise, once the journal holds
    the event that made it, if this instance still leads then (else the new leader's reconcile ends the
    call, the booking kept)."""

    def __init__(
        self,
        journal: WriteAhead | None,
        execute: Callable[[cmd.PbxCommand], None],
        leading: Callable[[], bool],
    ) -> None:
        self._journal = journal
        self._execute = execute
        self._leading = leading
        self._waiting: set[asyncio.Task[None]] = set()

    def __call__(self, command: cmd.PbxCommand) -> None:
        if self._journal is None or not promises(command):
            self._execute(command)
            return
        task = asyncio.create_task(self._when_kept(self._journal.mark(), command))
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def _when_kept(self, mark: int, command: cmd.PbxCommand) -> None:
        assert self._journal is not None
        await self._journal.kept_through(mark)
        if self._leading():
            self._execute(command)

    async def idle(self) -> bool:
        """Every promise held so far carried out (or dropped: no longer leading); whether there was any."""
        held = bool(self._waiting)
        while self._waiting:
            await asyncio.gather(*self._waiting, return_exceptions=True)
        return held
