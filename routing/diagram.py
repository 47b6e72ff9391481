"""Draws the agent, call, offer and supervision lifecycles from the transition tables in ``routing.states``.

``python -m routing.diagram > docs/states.md`` writes the document; a test fails when the file is stale,
so the drawing can only change by changing the tables.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

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

OFFER_ABOUT = (
    "An offer is one leg the router dials for a call: an agent's phone, an on-call person's or an\n"
    "outside number. Once it is missed, withdrawn or ended, the router forgets it."
)
SUPERVISION_ABOUT = (
    "A supervision is a supervisor's own phone on an agent's call, for as long as that agent has\nthe caller."
)

S = TypeVar("S", bound=enum.StrEnum)
T = TypeVar("T", bound=enum.StrEnum)


def mermaid(transitions: Mapping[tuple[S, T], S], initial: S) -> str:
    """A Mermaid ``stateDiagram-v2``: one arrow per pair of states, labelled with all its triggers."""
    states = list(type(initial))
    arrows: dict[tuple[S, S], list[str]] = {}
    for (source, trigger), target in transitions.items():
        arrows.setdefault((source, target), []).append(trigger.value)
    final = [s for s in states if not any(source is s for source, _ in transitions)]
    return "\n".join(
        [
            "stateDiagram-v2",
            *(f'    state "{s.value}" as {s.name}' for s in states),
            f"    [*] --> {initial.name}",
            *(f"    {a.name} --> {b.name}: {', '.join(ts)}" for (a, b), ts in arrows.items()),
            *(f"    {s.name} --> [*]" for s in final),
        ]
    )


def table(transitions: Mapping[tuple[S, T], S]) -> str:
    """The transitions as a Markdown table, in the order the source table lists them."""
    rows = ["| state | trigger | next state |", "|---|---|---|"]
    rows += [f"| {source} | {trigger} | {target} |" for (source, trigger), target in transitions.items()]
    return "\n".join(rows)


def section(
    title: str, transitions: Mapping[tuple[S, T], S], initial: S, triggers: type[T], about: str = ""
) -> str:
    """A heading, ``about`` (what the lifecycle is of, if it needs saying), the diagram and the table."""
    pairs = len(type(initial)) * len(triggers)
    return "\n".join(
        [
            f"## {title}",
            "",
            *([about, ""] if about else []),
            f"Every {title.lower()} starts `{initial.value}`; "
            f"{len(transitions)} of the {pairs} (state, trigger) pairs are legal.",
            "",
            "```mermaid",
            mermaid(transitions, initial),
            "```",
            "",
            table(transitions),
        ]
    )


def document() -> str:
    return "\n".join(
        [
            "# Agent, call, offer and supervision states",
            "",
            "<!-- Generated from routing/states.py by `python -m routing.diagram > docs/states.md`.",
            "     Do not edit by hand: tests/routing/test_state_diagram.py fails when it is stale. -->",
            "",
            "The router fires these triggers as events arrive. Any (state, trigger) pair not listed is",
            "illegal: the router raises `IllegalTransition` and leaves its state unchanged.",
            "",
            section("Agent", AGENT_TRANSITIONS, AgentState.LOGGED_OUT, AgentTrigger),
            "",
            section("Call", CALL_TRANSITIONS, CallState.WAITING, CallTrigger),
            "",
            section("Offer", OFFER_TRANSITIONS, OfferState.PLACED, OfferTrigger, OFFER_ABOUT),
            "",
            section(
                "Supervision",
                SUPERVISION_TRANSITIONS,
                SupervisionState.RINGING,
                SupervisionTrigger,
                SUPERVISION_ABOUT,
            ),
            "",
        ]
    )


def main() -> None:
    print(document(), end="")


if __name__ == "__main__":
    main()
