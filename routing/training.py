"""Training (issue 17): a supervisor puts one agent on practice callers only.

While an agent is in training (``TrainingStarted`` until ``TrainingEnded``, both a supervisor's doing):

- **no real caller reaches them**: they are not filed in the ready heaps (``matching.file_ready``), a
  real caller is not transferred to them (``AgentInTraining``), and calls held for them (sticky routing)
  wait for their sticky time to run out;
- **their practice callers reach nobody else**: a ``TrainingCallArrived`` is a call for that trainee
  alone, never in a queue's line or heaps, without rules, announcements or a maximum wait (the practice
  caller hangs up by their own script), and a queue, an outside number or the on-call chain are refused
  for it (``TrainingCallKept``); another trainee may take it by a transfer;
- everything else is as on a real call: ringing, a miss, hold, wrap-up, supervision. Its record is marked
  ``training``, which the call log keeps and every figure leaves out.

The rate at which practice callers come is the shell's (``TrainingChanged`` tells it): the core places
nobody, it takes the callers the shell places. Ending training sends the practice callers still
waiting away (no-agent, goodbye); a practice call ringing or connected goes on to its end.
"""

from __future__ import annotations

import math

from routing import commands as cmd
from routing import events as ev
from routing import matching, offers, queueing
from routing.book import Book, CallEntry, Training
from routing.commands import GOODBYE
from routing.errors import AgentInTraining, IllegalTransition, NotInTraining, TrainingCallKept
from routing.events import TransferKind
from routing.ids import AgentId
from routing.plan import Plan
from routing.states import AgentState, CallState

_READY, _WAITING = AgentState.READY, CallState.WAITING


def started(book: Book, plan: Plan, e: ev.TrainingStarted) -> list[cmd.Command]:
    """In training from now on (or, already in it, at another rate)."""
    agent = book.agent(e.agent)
    if not (math.isfinite(e.per_minute) and e.per_minute > 0):
        raise IllegalTransition(agent.id, agent.state, f"train at {e.per_minute} calls a minute")
    out: list[cmd.Command] = [cmd.TrainingChanged(agent.id, e.per_minute, e.by, e.at)]
    known = book.training.get(agent.id)
    if known is not None:
        known.per_minute, known.by = e.per_minute, e.by
        return out
    book.training[agent.id] = Training(per_minute=e.per_minute, by=e.by, since=e.at)
    if agent.state is _READY:
        agent.version += 1  # their ready-heap entries lapse: real callers no longer find them
    return out


def ended(book: Book, plan: Plan, e: ev.TrainingEnded) -> list[cmd.Command]:
    """Back to real callers; practice callers still waiting for them are sent away."""
    agent = book.agent(e.agent)
    training = book.training.pop(agent.id, None)
    if training is None:
        raise NotInTraining(agent.id)
    out: list[cmd.Command] = [cmd.TrainingChanged(agent.id, None, e.by, e.at)]
    for call in _still_waiting(book, training):
        out += queueing.end_unserved(book, plan, call, e.at, GOODBYE, "training-ended")
    if agent.state is _READY:
        matching.file_ready(book, agent, e.at, keep_place=True)
        out += offers.try_agent(book, plan, agent.id, e.at)
    return out


def call_arrived(book: Book, plan: Plan, e: ev.TrainingCallArrived) -> list[cmd.Command]:
    """A practice caller for ``e.trainee``: answered, and offered to them as soon as they are ready. One
    for an agent not in training (it ended while the call was placed) or a number the plan does not know
    is turned away unlogged: no caller was ever there."""
    if e.call in book.calls:
        return []  # a replayed StasisStart after a reconnect
    if e.call in book.ended:
        return [cmd.EndCall(e.call, (e.call,), None)]
    did = plan.dids.get(e.did)
    if did is None or e.trainee not in book.training:
        book.remember_ended(e.call)
        why = "not in the number plan" if did is None else f"for {e.trainee}, who is not in training"
        return [cmd.RejectCall(e.call, f"practice call on {e.did}: {why}")]
    call = queueing.new_call(book, plan, e.call, e.did, e.caller_number, e.caller_name, e.at)
    call.queue, call.entered_at, call.trainee = plan.lines[did.line].queue, e.at, e.trainee
    return [cmd.AnswerCall(call.id), *try_call(book, plan, call, e.at)]


def try_call(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    """Offer a waiting practice call to its trainee if they are ready, else it waits for them alone; a
    trainee no longer in training never takes it (it rang out as training ended): it is sent away."""
    assert call.trainee is not None
    call.version += 1
    training = book.training.get(call.trainee)
    if training is None:
        return queueing.end_unserved(book, plan, call, at, GOODBYE, "training-ended")
    agent = book.agents[call.trainee]
    if agent.state is _READY:
        return offers.offer(book, plan, call, [agent], at)
    training.waiting[call.id] = None
    return []


def check_transfer(book: Book, call: CallEntry, kind: TransferKind, target: str) -> None:
    """Refuse a transfer that would mix practice and real callers (before anything changes)."""
    to_trainee = kind is TransferKind.AGENT and AgentId(target) in book.training
    if call.trainee is None and to_trainee:
        raise AgentInTraining(target)
    if call.trainee is not None and not to_trainee:
        raise TrainingCallKept(call.id, f"{kind} {target}")


def restated(book: Book) -> list[cmd.TrainingChanged]:
    """Who is in training, for the consoles (and the shell that places practice callers) after a start."""
    return [cmd.TrainingChanged(a, t.per_minute, t.by, t.since) for a, t in book.training.items()]


def _still_waiting(book: Book, training: Training) -> list[CallEntry]:
    found = (book.calls.get(c) for c in training.waiting)
    return [c for c in found if c is not None and c.state is _WAITING]
