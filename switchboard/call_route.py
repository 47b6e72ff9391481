"""What ``switchboard call`` says about where its call goes: JSON fields for its output line, and one
sentence for people. The facts come from ``routing.destinations`` (the plan and the time alone)."""

from __future__ import annotations

import datetime as dt

from routing.destinations import Closed, Closing, Destination, Target
from routing.hours import Span
from routing.plan import Plan


def fields(found: Destination) -> dict[str, object]:
    """The fields ``switchboard call`` adds to its JSON line (README, "Commands")."""
    line, closing = found.line, found.closing
    return {
        "line": None if line is None else line.id,
        "line_name": None if line is None else line.name,
        "source": found.source,
        "open": found.open,
        "closed": None if closing is None else str(closing.why),
        "why": None if closing is None else why(closing),
        "route": str(found.target),
        "queue": found.queue,
        "on_call": [step.name for step in found.chain],
    }


def why(closing: Closing) -> str:
    """The holiday's name, the closure's reason, or the line's day and time against that day's hours."""
    if closing.why is not Closed.HOURS:
        return closing.name or str(closing.why)
    day = closing.local.strftime("%a")
    hours = ", ".join(_span(s) for s in closing.spans)
    opening = f"{day} hours {hours}" if hours else f"closed all {day}"
    return f"{day} {closing.local:%H:%M} {closing.local.tzinfo}; {opening}"


def sentence(found: Destination, plan: Plan) -> str:
    """Where the call goes, in words: the line, open or closed and why, and what takes the call."""
    if found.line is None:
        return f"{found.did} is not in the number plan: the call will be rejected"
    state = "open" if found.closing is None else f"closed ({_because(found.closing)})"
    where = f'{found.did} is line "{found.line.name}" (source {found.source}), {state}'
    after = "" if found.closing is None else "after hours "
    match found.target:
        case Target.QUEUE:
            queue = plan.queues[found.queue].name if found.queue is not None else ""
            return f'{where}: {after}the call waits in queue {found.queue} ("{queue}") for a ready agent'
        case Target.ON_CALL:
            names = ", then ".join(step.name for step in found.chain)
            return f"{where}: {after}the on-call chain rings {names}; a message if nobody answers"
        case Target.VOICEMAIL:
            return f"{where}: the caller is asked to leave a message"
        case _:  # hang-up (a number outside the plan, rejected, has no line: above)
            return f"{where}: the caller hears the closed message and is hung up"


def _because(closing: Closing) -> str:
    text = why(closing)
    match closing.why:
        case Closed.HOLIDAY:
            return f"public holiday: {text}"
        case Closed.CLOSURE:
            return f"closure: {text}"
        case _:
            return f"outside its hours: {text}"


def _span(span: Span) -> str:
    end = "24:00" if span.end == dt.time.max else f"{span.end:%H:%M}"
    return f"{span.start:%H:%M}-{end}"
