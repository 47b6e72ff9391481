"""The routing core's shape, checked on the source so it cannot quietly rot: small modules, state that
changes only through the transition tables, and one table of which counter cancels which timer."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import routing
from routing.book import AgentEntry, CallEntry, OfferEntry
from routing.timers import CANCELLED_BY, Counter, TimerKind

PACKAGE = Path(routing.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def test_given_routing_when_measured_then_every_module_stays_under_400_lines() -> None:
    for path in MODULES:
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name


def _state_writes(source: str) -> list[ast.AST]:
    """The value of every assignment to an attribute named ``state`` (a tuple target counts too)."""
    found: list[ast.AST] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign):
            targets = [t for target in node.targets for t in _flat(target)]
            found += [node.value for t in targets if isinstance(t, ast.Attribute) and t.attr == "state"]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and node.value is not None:
            target = node.target
            found += [node.value] if isinstance(target, ast.Attribute) and target.attr == "state" else []
    return found


def _flat(target: ast.expr) -> list[ast.expr]:
    if isinstance(target, ast.Tuple | ast.List):
        return [t for element in target.elts for t in _flat(element)]
    return [target]


def _through_a_table(value: ast.AST) -> bool:
    """``<LIFECYCLE>_TRANSITIONS[...]`` (the entries' ``fire``) or ``next_<lifecycle>_state(...)``."""
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
        return value.value.id.endswith("_TRANSITIONS")
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
        return False
    return value.func.id.startswith("next_") and value.func.id.endswith("_state")


def test_given_routing_when_scanned_then_states_change_only_through_the_transition_tables() -> None:
    # errors.py is left out: an exception keeps the state it was refused in, as data.
    scanned = [path for path in MODULES if path.name != "errors.py"]
    writes = {path.name: _state_writes(path.read_text(encoding="utf-8")) for path in scanned}
    assert sum(len(w) for w in writes.values()) >= 4  # the entries' ``fire``: agent, call, offer, supervision
    for name, values in writes.items():
        assert all(_through_a_table(v) for v in values), name


def test_given_a_direct_state_write_when_scanned_then_it_is_found() -> None:
    """The check itself can fail: the three kinds of write that bypass a table."""
    for source in (
        "call.state = CallState.ENDED",
        "call.state, call.offer = waiting, None",
        "agent.state: AgentState = AgentState.READY",
        "call.state = table[(call.state, trigger)]",
    ):
        (value,) = _state_writes(source)
        assert not _through_a_table(value), source
    for source in (
        "self.state = next_call_state(self.id, self.state, trigger)",
        "self.state = CALL_TRANSITIONS[(self.state, trigger)]",
    ):
        (value,) = _state_writes(source)
        assert _through_a_table(value), source


def test_given_the_timer_table_then_every_kind_names_a_counter_of_its_subject() -> None:
    assert set(CANCELLED_BY) == set(TimerKind)
    fields = {f.name for entry in (CallEntry, AgentEntry, OfferEntry) for f in dataclasses.fields(entry)}
    assert {c.value for c in Counter if c is not Counter.NONE} <= fields
