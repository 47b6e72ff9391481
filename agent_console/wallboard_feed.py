"""The supervisors' live wallboard over the console websocket, and what supervisors order from it.

``WallboardFeed`` owns the service's one ``agent_console.wallboard.Wallboard``: loaded from the store at
start, then following the bus. Watchers are console connections (``watch-wallboard``). Pushes are
coalesced: one task, once per ``cadence_s``, builds the view once, serialises it once and hands the same
text to every watcher whose socket has taken the previous one — a slow reader gets fewer pushes, never a
pile, and never holds up the others (each ``Connection`` has its own outbox and writer). The view is
rebuilt when the board's ``version`` moved, when the router said anything at all (a caller queued or
taken off the queue moves no board counter but changes ``waiting``), at midnight (the counts start
again), or while a caller waits (the longest wait keeps growing). The message's ``version`` counts the
board's changes and the router's commands, so it only ever grows.

``Supervision`` carries out supervisors' orders — ``set-agent-state`` for another agent, ``supervise``
and ``stop-supervising`` on the supervisor's own phone, ``move-call`` and ``call-to-front`` for a waiting
call — and keeps an audit of who did what: in memory, in the structured log (``supervisor.action``) and
in the store (``supervisor_actions``).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog

from agent_console.error_codes import error_code
from agent_console.errors import UnknownCall
from agent_console.hub import Connection
from agent_console.wallboard import View, Wallboard
from crm_core.domain.agent_states import AgentInterval
from crm_core.domain.calls import utc
from crm_core.domain.figures import CallFact, day_of, day_window
from crm_core.domain.supervisor_actions import SupervisorAction
from routing import commands as cmd
from routing import events as ev
from routing.errors import IllegalTransition
from routing.ids import AgentId, CallId
from routing.plan import DEFAULT_PAUSE_REASONS
from routing.states import CallState

log = structlog.get_logger("console")
Clock = Callable[[], float]
Ask = Callable[[ev.Event], Awaitable[list[cmd.Command]]]
UTC_ZONE = ZoneInfo("UTC")


class CallsBetween(Protocol):
    async def calls_between(self, since: Any, until: Any) -> list[Any]: ...


class IntervalsBetween(Protocol):
    async def between(self, since: Any, until: Any) -> list[AgentInterval]: ...


def message(view: View, version: int, pause_reasons: Sequence[str]) -> dict[str, Any]:
    """The ``wallboard`` server message: the board's view, and the reasons a supervisor may pause with."""
    return {"type": "wallboard", "version": version, "pause_reasons": list(pause_reasons), **view}


class WallboardFeed:
    def __init__(
        self,
        board: Wallboard,
        clock: Clock,
        cadence_s: float = 1.0,
        pause_reasons: Sequence[str] = DEFAULT_PAUSE_REASONS,
        zone: ZoneInfo = UTC_ZONE,
    ) -> None:
        """``zone`` is the board's: the center's day (``[routing].timezone``)."""
        self.board = board
        self._zone = zone
        self._pause_reasons = tuple(pause_reasons)
        self._clock = clock
        self.cadence_s = cadence_s
        self._watchers: dict[Connection, int] = {}  # connection -> the text id it was last given
        self._text = ""
        self._text_id = 0
        self._moved = 0  # router commands seen: a call queued or leaving moves no board counter
        self._built_version = -1
        self._built_at = 0.0
        self._built_day: date | None = None
        self._live = False  # someone is waiting: the longest wait moves without any event
        self.builds = 0  # views built and serialised (the bench and tests read it)

    # --- start ------------------------------------------------------------------------------------
    async def load(self, calls: CallsBetween, intervals: IntervalsBetween) -> None:
        """Today's calls and agent intervals from the store; call before the router starts."""
        now = self._clock()
        since, until = day_window(day_of(utc(now), self._zone), self._zone)
        facts: list[CallFact] = await calls.calls_between(since, until)
        self.board.load(facts, await intervals.between(since, until), now)

    def notice(self, command: cmd.Command) -> None:
        """The bus subscription: the board counts it in; the next tick pushes the change."""
        self.board.notice(command)
        self._moved += 1

    # --- watchers ---------------------------------------------------------------------------------
    def watch(self, conn: Connection) -> None:
        """A new watcher gets the current view at once, then the coalesced pushes."""
        self._refresh(waits_count=self._clock() - self._built_at >= self.cadence_s)
        self._watchers[conn] = self._text_id
        conn.send_text(self._text)

    def unwatch(self, conn: Connection) -> None:
        self._watchers.pop(conn, None)

    @property
    def watchers(self) -> int:
        return len(self._watchers)

    # --- pushes -----------------------------------------------------------------------------------
    def tick(self) -> int:
        """One cadence step: rebuild if anything moved, send to watchers ready for it; how many got it."""
        if not self._watchers:
            return 0
        self._refresh(waits_count=True)
        sent = 0
        for conn, given in self._watchers.items():
            if given != self._text_id and conn.backlog == 0:
                conn.send_text(self._text)
                self._watchers[conn] = self._text_id
                sent += 1
        return sent

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.cadence_s)
            try:
                self.tick()
            except Exception:
                log.exception("wallboard.tick-failed")  # a bug must not stop the wallboard for good

    def _refresh(self, waits_count: bool) -> None:
        """Build and serialise the view if it changed; a growing wait counts at most once a cadence."""
        version = self.board.version + self._moved
        now = self._clock()
        # Midnight starts the counts again without any event (the board rolls over as it is viewed).
        new_day = day_of(utc(now), self._zone) != self._built_day
        if (
            self._text_id
            and version == self._built_version
            and not new_day
            and not (self._live and waits_count)
        ):
            return
        view = self.board.view(now)
        version = self.board.version + self._moved  # viewing past midnight starts a new day (a new version)
        self._live = any(q["waiting"] for q in view["queues"])
        self._text = json.dumps(message(view, version, self._pause_reasons), separators=(",", ":"))
        self._text_id += 1
        self._built_version, self._built_at, self._built_day = version, now, self.board.day
        self.builds += 1


AUDIT_KEPT = 1_000  # orders kept in memory for the page and tests; the store keeps them all


@dataclass(frozen=True, slots=True, kw_only=True)
class Audited:
    at: float
    who: str  # the supervisor's username
    action: str  # "not-ready", "logged-out", a supervision mode, "stop-supervising", "move-call", ...
    target: str  # the agent id, or the call id of a move or a to-front
    reason: str | None  # the pause reason, or the queue a call is moved to
    outcome: str  # "done", or the error code the supervisor got


class AuditTrail(Protocol):
    """Where supervisors' orders are kept for good (``SqlStore.supervisor_actions``)."""

    async def record(self, entry: SupervisorAction) -> None: ...


class Supervision:
    """Supervisors' orders for other agents, through the router like the agents' own.

    Each order, done or refused, is logged, kept in ``audit`` (the last ``AUDIT_KEPT``) and written to
    the ``trail`` in the store; a store that fails loses no order from the log.
    """

    def __init__(self, ask: Ask, clock: Clock, trail: AuditTrail | None = None) -> None:
        self._ask = ask
        self._clock = clock
        self._trail = trail
        self.audit: deque[Audited] = deque(maxlen=AUDIT_KEPT)

    async def set_state(self, who: str, agent: str, state: str, reason: str | None) -> None:
        """Raises what the router raises (unknown agent, illegal transition, unknown reason)."""
        target = AgentId(agent)
        at = self._clock()
        event: ev.Event = (
            ev.AgentPaused(target, reason or "", at)
            if state == "not-ready"
            else ev.AgentLoggedOut(target, at)
        )
        await self.order(who, state, agent, reason, event)

    async def supervise(self, who: str, supervisor: AgentId, agent: str, mode: str) -> None:
        """Listen, whisper or barge on ``supervisor``'s phone (the agent id the user acts as)."""
        event = ev.SupervisionRequested(supervisor, AgentId(agent), ev.SupervisionMode(mode), self._clock())
        await self.order(who, mode, agent, None, event)

    async def stop_supervising(self, who: str, supervisor: AgentId) -> None:
        await self.order(
            who, "stop-supervising", supervisor, None, ev.SupervisionEnded(supervisor, self._clock())
        )

    async def start_training(self, who: str, agent: str, per_minute: float) -> None:
        """Practice callers only for ``agent``, ``per_minute`` of them (issue 17); again: a new rate."""
        event = ev.TrainingStarted(AgentId(agent), who, per_minute, self._clock())
        await self.order(who, "start-training", agent, f"{per_minute:g}/min", event)

    async def end_training(self, who: str, agent: str) -> None:
        await self.order(
            who, "end-training", agent, None, ev.TrainingEnded(AgentId(agent), who, self._clock())
        )

    async def move_call(self, who: str, call: str, queue: str) -> None:
        await self.order(who, "move-call", call, queue, ev.CallMoved(CallId(call), queue, self._clock()))

    async def call_to_front(self, who: str, call: str) -> None:
        await self.order(who, "call-to-front", call, None, ev.CallPrioritised(CallId(call), self._clock()))

    async def order(self, who: str, action: str, target: str, detail: str | None, event: ev.Event) -> None:
        """Ask the router; log, keep and store the order with its outcome ("done" or the error code).

        Raises what the router raises; a call the router does not hold (never came, or is over) comes
        out as ``UnknownCall`` rather than the router's "not allowed in state 'ended'".
        """
        at = self._clock()
        outcome = "done"
        try:
            await self._ask(event)
        except Exception as exc:
            refusal = _unknown_call(exc, event)
            outcome = error_code(exc if refusal is None else refusal)
            if refusal is not None:
                raise refusal from exc
            raise
        finally:
            self.audit.append(
                Audited(at=at, who=who, action=action, target=target, reason=detail, outcome=outcome)
            )
            log.info("supervisor.action", who=who, what=action, target=target, reason=detail, outcome=outcome)
            entry = SupervisorAction(
                at=utc(at), who=who, action=action, target=target, detail=detail, outcome=outcome
            )
            await self._keep(entry)

    async def _keep(self, entry: SupervisorAction) -> None:
        if self._trail is None:
            return
        try:
            await self._trail.record(entry)
        except Exception:
            log.exception(
                "supervisor.action-not-stored", who=entry.who, what=entry.action, target=entry.target
            )


def _unknown_call(exc: Exception, event: ev.Event) -> UnknownCall | None:
    """The router refuses a move or a to-front of a call it does not hold as illegal in state "ended"."""
    if not isinstance(event, ev.CallMoved | ev.CallPrioritised) or not isinstance(exc, IllegalTransition):
        return None
    if exc.state != CallState.ENDED:
        return None
    return UnknownCall(f"no call {event.call!r} is waiting (it never came, or it is over)")
