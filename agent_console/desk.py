"""The agent's work on a call beyond the router: wrap-up, taking a message, saying who the caller is
(attaching any customer, or picking one of those sharing the caller's number).

Each handler checks everything it can before it writes (the call is this agent's, the disposition and
the case change are allowed), so a refusal writes nothing. The store's refusals reach the console as
themselves; its failures become ``StoreUnavailable``.
The call log is written asynchronously after the router logs a call, so a wrap-up that arrives first
waits for exactly that call's record (``LogWaiter.written``), up to ``wait_s``, and is otherwise refused
with ``unknown-call``. A call this process never logged was logged before it started: after a restart,
the call a wrap-up form is for (``ConsoleHub.restate``) is in the store already.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import structlog

from agent_console import forms, messages, protocol
from agent_console.access import may_touch_call
from agent_console.errors import (
    ConsoleError,
    NotOffered,
    NotYourCall,
    StoreUnavailable,
    UnknownCall,
    UnknownCustomer,
    UnknownDisposition,
)
from agent_console.hub import ConsoleHub, Seen
from crm_core.domain.calls import LoggedCall, WrapUp
from crm_core.domain.cases import CaseChanges, CaseStatus, NewCase, Priority, planned_changes
from crm_core.domain.customers import CustomerDraft
from crm_core.domain.errors import Conflict, InvalidInput, NotFound
from crm_core.domain.overview import CustomerOverview
from crm_core.domain.ports import CallHistory, CallLog, Cases, Customers, CustomerView
from routing.ids import AgentId, CallId, LineId

log = structlog.get_logger("console")
T = TypeVar("T")
RECENT = 5
STORE_POLL_S = 0.05  # how often a call another instance logs is looked for
LINK_WAIT_S = 4 * 3600
LINK_POLL_S = 1.0  # a message taken during a call is linked to it once the call is logged


class LogWaiter(Protocol):
    """The call-log writer (``switchboard.recorder.CallRecorder``)."""

    def seen(self, call: CallId) -> bool: ...
    async def written(self, call: CallId, timeout_s: float) -> bool: ...


class LiveCallers(Protocol):
    """The caller cache (``switchboard.callers.CallerCache``)."""

    def live(self, call: CallId) -> bool: ...
    def attach(self, call: CallId, overview: CustomerOverview) -> None: ...


@dataclass(frozen=True, slots=True)
class Notified:
    ok: bool
    attempts: int
    error: str | None


class Notifier(Protocol):
    """The lines' webhooks (``switchboard.webhooks.LineWebhooks``)."""

    def configured(self, line: LineId) -> bool: ...
    async def notify(self, line: LineId, payload: dict[str, Any]) -> Notified: ...


@dataclass(frozen=True, slots=True)
class DeskStore:
    call_log: CallLog
    calls: CallHistory
    cases: Cases
    customers: Customers
    view: CustomerView


class Desk:
    def __init__(
        self,
        store: DeskStore,
        recorder: LogWaiter,
        callers: LiveCallers,
        notifier: Notifier | None,
        clock: Callable[[], float],
        wait_s: float = 5.0,
    ) -> None:
        self.store = store
        self._recorder = recorder
        self._callers = callers
        self._notifier = notifier
        self._clock = clock
        self._wait_s = wait_s
        self._tasks: set[asyncio.Task[None]] = set()
        self._forms = forms.FormChoices()

    async def idle(self) -> None:
        """Wait until every background job (webhooks, late links) started so far is done."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- wrap-up --------------------------------------------------------------------------------
    async def wrap_up(self, hub: ConsoleHub, agent: AgentId, role: str, m: protocol.WrapUp) -> None:
        if m.disposition not in hub.floor.disposition_codes:
            raise UnknownDisposition(f"{m.disposition!r} is not one of the disposition codes")
        logged = await _store(self._logged(CallId(m.call)))
        if not may_touch_call(role, "console.desk", agent, logged.record.agent):
            raise NotYourCall(f"call {m.call} was not yours")
        needs_customer = m.callback_at is not None or isinstance(m.case, protocol.NewCaseRequest)
        if needs_customer and logged.customer_id is None:
            raise UnknownCustomer("a case needs the caller's customer record: attach one first")
        case_id, callback = await _store(self._cases(agent, logged, m))
        await _store(self.store.calls.wrap_up(m.call, WrapUp(m.disposition, m.notes or None, case_id)))
        recent: list[LoggedCall] = []
        if logged.customer_id is not None:
            recent = await _store(self.store.call_log.recent_calls(RECENT, logged.customer_id))
        hub.wrapped_up(agent, CallId(m.call))
        hub.send(agent, messages.wrap_up_saved(m.call, m.disposition, m.notes, case_id, callback, recent))
        log.info("console.wrap-up", agent=agent, call=m.call, disposition=m.disposition, case=case_id)

    async def _logged(self, call: CallId) -> LoggedCall:
        if not self._recorder.seen(call):
            # Logged before this process started, or by another instance (several instances: the
            # leader writes the call log, and this console may be on a follower): the store has it, or
            # will in a moment.
            found = await self._in_store(call)
            if found is not None:
                return found
        if not await self._recorder.written(call, self._wait_s):
            raise UnknownCall(f"no call {call} in the call log")
        found = await self.store.call_log.get_call(call)
        if found is None:
            raise UnknownCall(f"no call {call} in the call log")
        return found

    async def _stored(self, call: CallId) -> bool:
        """Whether the call log holds ``call``: once written, for a call this process logged (waiting up
        to ``wait_s``); if the store has it, for one logged before this process started."""
        if self._recorder.seen(call):
            return await self._recorder.written(call, self._wait_s)
        return await self._in_store(call) is not None

    async def _logged_within(self, call: CallId, wait_s: float) -> bool:
        """Whether ``call`` is in the call log within ``wait_s``: written by this process, or by another
        instance (looked for in the store every ``LINK_POLL_S``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while not self._recorder.seen(call):
            with contextlib.suppress(Exception):  # the store away for a moment: look again later
                if await self.store.call_log.get_call(call) is not None:
                    return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(LINK_POLL_S)
        return await self._recorder.written(call, max(0.0, deadline - loop.time()))

    async def _in_store(self, call: CallId) -> LoggedCall | None:
        """``call``'s row, looked for up to ``wait_s`` (another instance may be writing it now)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        while (found := await _store(self.store.call_log.get_call(call))) is None:
            if loop.time() >= deadline or self._recorder.seen(call):
                return None
            await asyncio.sleep(STORE_POLL_S)
        return found

    async def _cases(
        self, agent: AgentId, logged: LoggedCall, m: protocol.WrapUp
    ) -> tuple[int | None, messages.Message | None]:
        cases = self.store.cases
        case_id: int | None = None
        if isinstance(m.case, protocol.CaseUpdateRequest):
            case_id = await self._update(agent, logged.record.call, m.case)
        elif m.case is not None and logged.customer_id is not None:
            new = NewCase(
                customer_id=logged.customer_id,
                subject=m.case.subject,
                description=m.notes,
                priority=Priority(m.case.priority),
                owner=agent,
                calls=(logged.record.call,),
            )
            case_id = (await cases.open(new, author=agent)).id
        callback = None
        if m.callback_at is not None and logged.customer_id is not None:
            due = m.callback_at
            new = NewCase(
                customer_id=logged.customer_id,
                subject="Call back",
                description=m.notes,
                priority=Priority.NORMAL,
                owner=agent,
                due_at=due,
                calls=(logged.record.call,),
            )
            opened = await cases.open(new, author=agent)
            callback = {"case_id": opened.id, "at": due.isoformat()}
        return case_id, callback

    async def _update(self, agent: AgentId, call: str, m: protocol.CaseUpdateRequest) -> int:
        cases = self.store.cases
        current = await cases.get(m.id)
        status = CaseStatus(m.status)
        planned_changes(current, CaseChanges(status=status))  # refuses an illegal change before writing
        if status is CaseStatus.CLOSED:
            await cases.close(m.id, author=agent, comment=m.comment or None)
        else:
            await cases.update(m.id, CaseChanges(status=status), author=agent)
            if m.comment:
                await cases.comment(m.id, m.comment, author=agent)
        if call not in current.calls:
            await cases.link_call(m.id, call, author=agent)
        return m.id

    # --- take-message ---------------------------------------------------------------------------
    async def message_form(self, hub: ConsoleHub, agent: AgentId, role: str, m: protocol.MessageForm) -> None:
        """The form the call takes for the call type the agent picked (agent_console/forms.py)."""
        pop = _yours(hub, agent, role, m.call).pop
        form = self._forms.choose(hub.floor.forms, pop.line, pop.call, m.call_type, self._clock())
        hub.send(agent, forms.message_form(m.call, m.call_type, hub.floor.forms.get(pop.line), form))

    async def take_message(self, hub: ConsoleHub, agent: AgentId, role: str, m: protocol.TakeMessage) -> None:
        """Checked against the form the call was shown (or the plain message): refused per field with
        nothing stored, or filed as a case before any delivery is queued."""
        seen = _yours(hub, agent, role, m.call)
        pop = seen.pop
        books, now = hub.floor.forms, self._clock()
        form = self._forms.choose(books, pop.line, pop.call, m.call_type, now)
        taken = forms.taken(m, form, books.get(pop.line), hub.floor.region, now, pop.caller_number)
        if not isinstance(taken, forms.Taken):
            hub.send(agent, forms.message_refused(m.call, m.form, taken))
            return
        callback = taken.callback
        customer_id = await _store(self._customer_for(hub, seen, taken.caller_name, callback))
        linked = None  # a call not yet in the call log is linked once it is (``_link_later``)
        if seen.record is not None and await self._stored(seen.record.call):
            linked = seen.record.call
        priority = Priority.URGENT if taken.urgent else Priority.NORMAL
        subject = f"{'URGENT message' if taken.urgent else 'Message'} for {pop.line_name}"
        if taken.form is not None:
            subject += f" ({taken.form.title})"
        new = NewCase(
            customer_id=customer_id,
            subject=subject,
            description=taken.description,
            priority=priority,
            owner=f"line:{pop.line}",
            calls=() if linked is None else (linked,),
        )
        case = await _store(self.store.cases.open(new, author=agent))
        if linked is None:
            self._start(
                self._link_later(case.id, pop.call if seen.record is None else seen.record.call, agent)
            )
        notify = self._notifier is not None and self._notifier.configured(pop.line)
        hub.send(agent, messages.message_taken(m.call, case.id, taken.urgent, notify))
        log.info("console.message-taken", agent=agent, call=m.call, case=case.id, urgent=taken.urgent)
        if notify:
            payload = {
                "line": pop.line, "line_name": pop.line_name, "case_id": case.id, "call": pop.call,
                "urgent": taken.urgent, "caller_name": taken.caller_name or pop.caller_name,
                "callback_number": callback or pop.caller_number, "message": taken.message, "taken_by": agent,
                "taken_at": datetime.fromtimestamp(self._clock(), UTC).isoformat(),
            }  # fmt: skip
            if taken.form is not None:
                payload |= {"form": taken.form.name, "call_type": m.call_type, "values": dict(taken.values)}
            self._start(self._notify(hub, agent, m.call, case.id, pop.line, payload))

    async def _customer_for(self, hub: ConsoleHub, seen: Seen, name: str | None, callback: str | None) -> int:
        known = await hub.customer_id(seen)
        if known is not None:
            return known
        number = callback or seen.pop.caller_number
        phones = [(number, "other")] if number is not None and number.startswith("+") else []
        draft = CustomerDraft(name=name or "Unknown caller", phones=phones, tags=[f"line:{seen.pop.line}"])
        return (await self.store.customers.create(draft)).id

    async def _link_later(self, case_id: int, call: CallId, agent: AgentId) -> None:
        if await self._logged_within(call, LINK_WAIT_S):
            try:
                await self.store.cases.link_call(case_id, call, author=agent)
            except Exception:
                log.exception("console.message-link-failed", case=case_id, call=call)

    async def _notify(
        self, hub: ConsoleHub, agent: AgentId, call: str, case_id: int, line: LineId, payload: dict[str, Any]
    ) -> None:
        assert self._notifier is not None
        try:
            result = await self._notifier.notify(line, payload)
        except Exception as exc:
            log.exception("console.message-notify-failed", case=case_id)
            result = Notified(False, 0, type(exc).__name__)
        hub.send(agent, messages.message_notified(call, case_id, result.ok, result.attempts, result.error))

    # --- attach-customer ------------------------------------------------------------------------
    async def attach_customer(
        self, hub: ConsoleHub, agent: AgentId, role: str, m: protocol.AttachCustomer
    ) -> CallId | None:
        return await self._attach(hub, _yours(hub, agent, role, m.call), agent, m.customer_id)

    # --- pick-customer --------------------------------------------------------------------------
    async def pick_customer(
        self, hub: ConsoleHub, agent: AgentId, role: str, m: protocol.PickCustomer
    ) -> CallId | None:
        """One of the customers sharing the caller's number, as the pop offered them: checked against
        that offer (``not-offered``) before anything is read or written, then attached as any customer."""
        seen = _yours(hub, agent, role, m.call)
        offered = [match["id"] for match in seen.offer.get("matches", ())]
        if m.customer_id not in offered:
            if not offered:
                raise NotOffered(f"call {m.call} offered no customers to pick from")
            raise NotOffered(f"customer {m.customer_id} is not one of those call {m.call} offered: {offered}")
        return await self._attach(hub, seen, agent, m.customer_id)

    async def _attach(self, hub: ConsoleHub, seen: Seen, agent: AgentId, customer_id: int) -> CallId | None:
        """The customer shown and kept for the call; the caller's call while it is live (the router is
        told, which keeps it: agent_console/dispatch.py), None once it is over (the call log has it)."""
        overview = await _store(self.store.view.overview(customer_id, calls=RECENT, cases=20, orders=RECENT))
        caller_call = seen.pop.call
        if self._callers.live(caller_call):
            self._callers.attach(caller_call, overview)  # the record, when written, names the customer
        if seen.record is not None:  # logged: by this process (wait for its write), or before it started
            call = seen.record.call
            if self._recorder.seen(call) and not await self._recorder.written(call, self._wait_s):
                raise StoreUnavailable("the call log has not stored this call yet; try again")
            await _store(self.store.call_log.record(seen.record, customer_id))  # keeps the wrap-up
        hub.attach_customer(seen, overview)
        log.info("console.customer-attached", agent=agent, call=seen.pop.call, customer=customer_id)
        return caller_call if seen.record is None else None

    def _start(self, job: Awaitable[None]) -> None:
        async def run() -> None:
            await job

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _yours(hub: ConsoleHub, agent: AgentId, role: str, call: str) -> Seen:
    seen = hub.seen(CallId(call))
    if seen is None:
        raise UnknownCall(f"no call {call} on this console")
    if not may_touch_call(role, "console.desk", agent, seen.agent):
        raise NotYourCall(f"call {call} was not yours")
    return seen


async def _store(work: Awaitable[T]) -> T:
    """The store's answer; its refusals as they are (``error_codes`` has their codes), anything else it
    raises as ``StoreUnavailable``."""
    try:
        return await work
    except (ConsoleError, InvalidInput, NotFound, Conflict):
        raise
    except Exception as exc:
        log.exception("console.store-failed")
        raise StoreUnavailable("the customer store is not answering; nothing was saved") from exc
