"""Message forms on the answering console, and each message's deliveries as they change.

The desk asks ``FormChoices`` which form a call takes (``routing.forms.choose`` over the line's forms, at
the business's local time, for the call type the agent picked) and remembers the answer per call, so a
message is checked against the form the agent was shown even if the clock has since crossed a window's
edge. The builders here make the server messages ``message-form``, ``message-refused`` and ``delivery``
(schemas in agent_console/schemas/server/).

``DeliveryFeed`` is the delivery worker's hook: each time a delivery is queued or changes status, the
agent who took the message is sent a ``delivery`` message on their console's socket (no polling). It
reaches this process's sockets; in a cluster, switchboard/cluster/delivery_feed.py takes its place and
tells every instance.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from agent_console.errors import BadNumber
from agent_console.protocol import TakeMessage
from crm_core.domain.deliveries import Delivery, DeliveryStatus
from crm_core.domain.phones import normalise
from routing.forms import FieldType, Form, FormBook, check, choose
from routing.ids import AgentId, CallId, LineId

Message = dict[str, object]
REMEMBERED = 10_000  # calls whose chosen form is kept; the oldest is forgotten first


class Sender(Protocol):
    def send(self, agent: AgentId, message: dict[str, object]) -> None: ...


class FormChoices:
    """Which form each call was shown, per call type."""

    def __init__(self, limit: int = REMEMBERED) -> None:
        self._shown: OrderedDict[tuple[CallId, str | None], str | None] = OrderedDict()
        self._limit = limit

    def choose(
        self, books: Mapping[LineId, FormBook], line: LineId, call: CallId, call_type: str | None, at: float
    ) -> Form | None:
        """The form shown for ``call`` and ``call_type`` before, else the one chosen now (remembered)."""
        book = books.get(line)
        if book is None:
            return None
        key = (call, call_type)
        if key in self._shown:
            name = self._shown[key]
            return None if name is None else book.named(name)
        form = choose(book, book.local(at), call_type)
        self._shown[key] = None if form is None else form.name
        while len(self._shown) > self._limit:
            self._shown.popitem(last=False)
        return form


@dataclass(frozen=True, slots=True, kw_only=True)
class Taken:
    """A message as the desk files it: checked, with its form's name and values when it has a form."""

    urgent: bool
    description: str  # the case's
    message: str  # what the deliveries carry
    caller_name: str | None
    callback: str | None  # E.164
    form: Form | None = None
    values: Mapping[str, str] = field(default_factory=dict)


def taken(
    m: TakeMessage, form: Form | None, book: FormBook | None, region: str, at: float, number: str | None
) -> Taken | dict[str, str]:
    """``m`` checked against ``form`` (None: the plain message); or, refused, why per field. ``number``:
    the caller's, where the plain message gives no callback number."""
    if form is None:
        if m.form is not None or m.values is not None:
            return {"form": "this call takes no form now: take a plain message"}
        return _plain(m, region, number)
    if m.form != form.name:
        return {"form": f"this call takes the form {form.title!r}"}
    assert book is not None
    checked = check(form, m.values or {}, book.local(at).date(), lambda raw: normalise(raw, region))
    if not checked.ok:
        return dict(checked.errors)
    text = checked.summary()
    return Taken(
        urgent=checked.urgent, description=text, message=text, caller_name=checked.first(FieldType.NAME),
        callback=checked.first(FieldType.PHONE), form=form, values=checked.values,
    )  # fmt: skip


def _plain(m: TakeMessage, region: str, number: str | None) -> Taken | dict[str, str]:
    callback = None
    if m.callback_number is not None:
        callback = normalise(m.callback_number, region)
        if callback is None:
            raise BadNumber(f"{m.callback_number!r} is not a phone number")
    if not m.message.strip():
        return {"message": "required"}
    who = m.caller_name or "Unknown caller"
    description = f"{m.message}\n\nFrom: {who}\nCall back: {callback or number or 'no number'}"
    return Taken(urgent=m.urgent, description=description, message=m.message, caller_name=m.caller_name,
                 callback=callback)  # fmt: skip


def form_view(form: Form) -> Message:
    fields = [
        {"name": f.name, "label": f.label, "type": f.type.value, "required": f.required,
         "max_length": f.limit, "choices": list(f.choices)}
        for f in form.fields
    ]  # fmt: skip
    return {"name": form.name, "title": form.title, "fields": fields}


def message_form(call: str, call_type: str | None, book: FormBook | None, form: Form | None) -> Message:
    """The form the call takes for ``call_type`` (null: the plain message), and the line's call types."""
    return {"type": "message-form", "call": call, "call_type": call_type,
            "call_types": [] if book is None else list(book.call_types),
            "form": None if form is None else form_view(form)}  # fmt: skip


def message_refused(call: str, form: str | None, errors: Mapping[str, str]) -> Message:
    """Nothing was stored: why, per field in the form's order (``form`` for the form itself)."""
    listed = [{"field": name, "error": error} for name, error in errors.items()]
    return {"type": "message-refused", "call": call, "form": form, "errors": listed}


def delivery(d: Delivery, detail: str | None) -> Message:
    call = d.content.get("call")
    return {
        "type": "delivery", "call": call if isinstance(call, str) else None, "case_id": d.message_id,
        "delivery": d.id, "channel": d.channel.value, "recipient": d.recipient, "status": d.status.value,
        "attempts": d.attempts, "detail": detail, "at": d.updated_at.isoformat(),
    }  # fmt: skip


def detail_of(d: Delivery) -> str | None:
    """What a delivery read from the store says of its last change: the error of a failure or a retry, else
    the far end's answer (the live message carries the change's own words)."""
    if d.status in (DeliveryStatus.QUEUED, DeliveryStatus.FAILED):
        return d.last_error
    return d.answer


class DeliveryFeed:
    """The delivery worker's hook: the agent who took the message hears of each change of a delivery."""

    def __init__(self, consoles: Sender) -> None:
        self._consoles = consoles

    def changed(self, d: Delivery, detail: str | None) -> None:
        agent = d.content.get("taken_by")
        if isinstance(agent, str):
            self._consoles.send(AgentId(agent), delivery(d, detail))
