"""A PBX played in-process: an adapter of the ``Pbx`` port with no Asterisk behind it.

The benches use it to load the real service without a PBX, and a demo mode can stand on it later. It is
driven like ``AriPbx``, by the router's commands, and answers like it, with domain events:

- a caller dials in when told (``arrive``): ``CallArrived``; a practice caller for a trainee
  (``place_practice_call``): ``TrainingCallArrived``, and their hangup once their time is up;
- a phone offered a call (``OfferCall``) rings ``ring_after_s`` later (``OfferRinging``), is answered
  ``answer_after_s`` after it began to ring (``OfferAnswered``), and the caller hangs up
  ``hang_up_after_s`` after it began to ring (``CallerHungUp``); None: never;
- an on-call person told who an escalated call is for (``PromptOnCall``) presses 1 as the prompt's
  time (``answer_after_s``) is over (``LegKeyPressed``);
- a withdrawn offer (``CancelOffer``) stops ringing at once (``OfferEnded``);
- a call the router ends or rejects (``EndCall``, ``RejectCall``) is over for its caller and phones: what
  they were about to do does not happen.

Every other command is carried out without an outcome to report (music, prompts, bridges are heard, not
seen); transfers to numbers, callbacks and supervisors' phones are not simulated (nobody answers them).
Commands are carried out at once, so ``idle`` never waits; what the simulated people do later is theirs.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from routing import commands as cmd
from routing import events as ev
from routing.ids import CallId, OfferId
from telephony.pbx import PracticeCall
from telephony.translate import channel_gone

Submit = Callable[[ev.Event], None]
Clock = Callable[[], float]
Later = Callable[[float], ev.Event]  # an event, once it is stamped with the time it happens


@dataclass(frozen=True, slots=True)
class Timing:
    """How the simulated people behave, in seconds (the benches' defaults)."""

    ring_after_s: float = 0.010  # offer -> the phone rings
    answer_after_s: float | None = 0.300  # ringing -> the agent answers
    hang_up_after_s: float | None = 1.0  # ringing -> the caller hangs up


class SimulatedPbx:
    def __init__(self, submit: Submit, clock: Clock, timing: Timing | None = None) -> None:
        self._submit = submit
        self._clock = clock
        self.timing = timing or Timing()
        self.connected = asyncio.Event()
        self.offers = 0  # offers rung so far (the benches report it)
        self._pending: dict[str, dict[int, asyncio.TimerHandle]] = {}  # channel -> what it will do next
        self._ids = itertools.count()
        self._gone: set[str] = set()  # adopted from an earlier run's books: reported ended on start

    # --- the Pbx port -----------------------------------------------------------------------------
    def adopt(self, channels: Collection[str], as_of: float | None = None) -> None:
        """The simulated people of an earlier run went quiet with it: every channel is gone."""
        self._gone.update(channels)

    async def run(self) -> None:
        """Connected at once, until cancelled; then the simulated people go quiet."""
        for channel in sorted(self._gone):
            self._submit(channel_gone(channel, self._clock()))
        self._gone.clear()
        self.connected.set()
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            self.connected.clear()
            for channel in list(self._pending):
                self._forget([channel])

    def execute(self, command: cmd.PbxCommand) -> None:
        match command:
            case cmd.OfferCall(offer=offer, call=call):
                self._ring(offer, call)
            case cmd.PromptOnCall(offer=offer) if self.timing.answer_after_s is not None:
                accept = functools.partial(ev.LegKeyPressed, offer, "1")
                self._later(offer, self.timing.answer_after_s, accept)
            case cmd.CancelOffer(offer=offer):
                self._forget([offer])
                self._later(offer, 0.0, functools.partial(ev.OfferEnded, offer))
            case cmd.EndCall(call=call, channels=channels):
                self._forget([call, *channels])
            case cmd.RejectCall(call=call):
                self._forget([call])

    async def idle(self) -> None:
        return

    # --- the simulated callers ----------------------------------------------------------------------
    def arrive(self, call: CallId, did: str, number: str | None, name: str | None = None) -> None:
        self._submit(ev.CallArrived(call, did, number, name, self._clock()))

    def place_practice_call(self, practice: PracticeCall) -> None:
        """A practice caller for a trainee comes in at once and hangs up after ``stay_s`` (unless the call
        is ended first), as the sandbox's ``switchboard-training-caller`` does."""
        self._submit(ev.TrainingCallArrived(call=practice.call, did=practice.did, trainee=practice.trainee,
                                            caller_number=practice.number, caller_name=practice.name,
                                            at=self._clock()))  # fmt: skip
        self._later(practice.call, practice.stay_s, functools.partial(ev.CallerHungUp, practice.call))

    # --- inside -----------------------------------------------------------------------------------
    def _ring(self, offer: OfferId, call: CallId) -> None:
        self.offers += 1
        timing, ring = self.timing, self.timing.ring_after_s
        self._later(offer, ring, functools.partial(ev.OfferRinging, offer))
        if timing.answer_after_s is not None:
            self._later(offer, ring + timing.answer_after_s, functools.partial(ev.OfferAnswered, offer))
        if timing.hang_up_after_s is not None and call not in self._pending:
            self._later(call, ring + timing.hang_up_after_s, functools.partial(ev.CallerHungUp, call))

    def _later(self, channel: str, delay_s: float, event: Later) -> None:
        key = next(self._ids)
        handle = asyncio.get_running_loop().call_later(delay_s, self._happen, channel, key, event)
        self._pending.setdefault(channel, {})[key] = handle

    def _happen(self, channel: str, key: int, event: Later) -> None:
        pending = self._pending.get(channel, {})
        pending.pop(key, None)
        if not pending:
            self._pending.pop(channel, None)
        self._submit(event(self._clock()))

    def _forget(self, channels: Iterable[str]) -> None:
        for channel in channels:
            for handle in self._pending.pop(channel, {}).values():
                handle.cancel()
