"""The state document is drawn from the tables, and the checked-in copy is the current drawing."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from routing import diagram
from routing.states import (
    AGENT_TRANSITIONS,
    CALL_TRANSITIONS,
    OFFER_TRANSITIONS,
    SUPERVISION_TRANSITIONS,
    AgentState,
    AgentTrigger,
    CallState,
    CallTrigger,
    OfferState,
    OfferTrigger,
    SupervisionState,
    SupervisionTrigger,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "states.md"


def test_given_current_tables_when_document_drawn_then_equals_docs_states_md() -> None:
    assert DOC.read_text(encoding="utf-8") == diagram.document(), (
        "docs/states.md is stale: run `python -m routing.diagram > docs/states.md`"
    )


def test_given_module_run_as_script_when_executed_then_prints_the_document(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "routing.diagram")  # so runpy runs a fresh copy without a warning
    runpy.run_module("routing.diagram", run_name="__main__")
    assert capsys.readouterr().out == diagram.document()


def test_given_agent_table_when_drawn_then_every_transition_has_an_arrow_and_a_row() -> None:
    drawn = diagram.mermaid(AGENT_TRANSITIONS, AgentState.LOGGED_OUT)
    assert drawn.startswith("stateDiagram-v2\n")
    assert "    [*] --> LOGGED_OUT" in drawn
    assert "    READY --> RINGING: offer" in drawn
    assert "    NOT_READY --> NOT_READY: log-in, pause" in drawn  # one arrow, both triggers
    assert "--> [*]" not in drawn  # an agent can always come back
    rows = diagram.table(AGENT_TRANSITIONS).splitlines()[2:]
    assert len(rows) == len(AGENT_TRANSITIONS)
    assert "| ringing | no-answer | not-ready |" in rows


def test_given_call_table_when_drawn_then_ended_is_final() -> None:
    drawn = diagram.mermaid(CALL_TRANSITIONS, CallState.WAITING)
    for state in CallState:
        assert f'state "{state.value}" as {state.name}' in drawn
    for (source, trigger), target in CALL_TRANSITIONS.items():
        arrow = next(
            line for line in drawn.splitlines() if line.startswith(f"    {source.name} --> {target.name}:")
        )
        assert trigger.value in arrow
    assert drawn.endswith("    ENDED --> [*]")


def test_given_offer_table_when_drawn_then_missed_withdrawn_and_ended_are_final() -> None:
    drawn = diagram.mermaid(OFFER_TRANSITIONS, OfferState.PLACED)
    assert "    [*] --> PLACED" in drawn
    assert "    PLACED --> RINGING: ring" in drawn
    assert "    ANSWERED --> ENDED: end" in drawn
    finals = [line for line in drawn.splitlines() if line.endswith("--> [*]")]
    assert finals == ["    MISSED --> [*]", "    WITHDRAWN --> [*]", "    ENDED --> [*]"]
    rows = diagram.table(OFFER_TRANSITIONS).splitlines()[2:]
    assert len(rows) == len(OFFER_TRANSITIONS)
    assert "| ringing | no-answer | missed |" in rows


def test_given_supervision_table_when_drawn_then_it_rings_connects_and_ends() -> None:
    drawn = diagram.mermaid(SUPERVISION_TRANSITIONS, SupervisionState.RINGING)
    assert drawn.splitlines()[4:] == [
        "    [*] --> RINGING",
        "    RINGING --> CONNECTED: answer",
        "    RINGING --> ENDED: end",
        "    CONNECTED --> ENDED: end",
        "    ENDED --> [*]",
    ]


def test_given_tables_when_document_drawn_then_states_legal_pair_counts() -> None:
    text = diagram.document()
    agent_pairs, call_pairs = len(AgentState) * len(AgentTrigger), len(CallState) * len(CallTrigger)
    offer_pairs = len(OfferState) * len(OfferTrigger)
    supervision_pairs = len(SupervisionState) * len(SupervisionTrigger)
    assert f"Every agent starts `logged-out`; {len(AGENT_TRANSITIONS)} of the {agent_pairs} " in text
    assert f"Every call starts `waiting`; {len(CALL_TRANSITIONS)} of the {call_pairs} " in text
    assert f"Every offer starts `placed`; {len(OFFER_TRANSITIONS)} of the {offer_pairs} " in text
    n = len(SUPERVISION_TRANSITIONS)
    assert f"Every supervision starts `ringing`; {n} of the {supervision_pairs} " in text
    assert text.count("```mermaid") == 4
    assert diagram.OFFER_ABOUT in text and diagram.SUPERVISION_ABOUT in text
    assert text.endswith("|\n")
