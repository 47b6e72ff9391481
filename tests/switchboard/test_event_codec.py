"""The journal's event codec: every event of the router's union comes back equal, and a line that is not
one of this release's events is refused with its class and field named."""

from __future__ import annotations

import enum
import json
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing import events as ev
from routing.ids import AgentId
from routing.plan import OnCallStep
from switchboard.event_codec import KINDS, UnreadableEvent, decode, encode

FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def _values(hint: object) -> st.SearchStrategy[object]:
    if typing.get_origin(hint) is tuple:  # a tuple of frozen dataclasses of the kinds below
        (item, _) = typing.get_args(hint)
        fields = {n: _values(h) for n, h in typing.get_type_hints(item).items()}
        return st.lists(st.builds(item, **fields), max_size=3).map(tuple)
    options = typing.get_args(hint) or (hint,)
    found: list[st.SearchStrategy[object]] = []
    for option in options:
        supertype = getattr(option, "__supertype__", option)  # an id type is a str
        if option is type(None):
            found.append(st.none())
        elif isinstance(supertype, type) and issubclass(supertype, enum.Enum):
            found.append(st.sampled_from(list(supertype)))
        elif supertype is float:
            found.append(FLOATS)
        elif supertype is str:
            found.append(st.text())
        elif supertype is bool:
            found.append(st.booleans())
        else:
            raise AssertionError(f"no strategy for {option!r}: the codec would not know it either")
    return st.one_of(found)


def _events() -> st.SearchStrategy[ev.Event]:
    built = [st.builds(cls, **{n: _values(h) for n, h in typing.get_type_hints(cls).items()})
             for cls in KINDS.values()]  # fmt: skip
    return st.one_of(built)  # type: ignore[arg-type]


def test_given_the_event_union_then_the_codec_knows_every_kind() -> None:
    assert set(KINDS.values()) == set(typing.get_args(ev.Event))


@given(_events())
def test_given_any_event_when_encoded_and_decoded_then_it_comes_back_equal(event: ev.Event) -> None:
    text = encode(event)
    assert json.loads(text)["k"] == type(event).__name__
    back = decode(text)
    assert back == event and type(back) is type(event)


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("not json", "not a journalled event"),
        ('{"at": 1.0}', "not a journalled event"),
        ('{"k": "CallVanished", "call": "c1"}', "not a journalled event"),
        ('{"k": "Tick"}', "Tick"),
        ('{"k": "Tick", "at": 1.0, "colour": "red"}', "unknown fields ['colour']"),
        ('{"k": "SupervisionEnded", "at": 1.0}', "SupervisionEnded: KeyError"),
        ('{"k": "Tick", "at": "soon"}', "'soon' is not a float"),
        ('{"k": "Tick", "at": true}', "True is not a float"),
        ('{"k": "Tick", "at": null}', "None is not a float"),
        ('{"k": "CallerHungUp", "call": 7, "at": 1}', "7 is not a str"),
        ('{"k": "SupervisionRequested", "supervisor": "s", "agent": "a", "mode": "shout", "at": 1}', "shout"),
        ("[1, 2]", "not a journalled event"),
        ('{"k": "EscalationRequested", "agent": "a", "at": 1, "chain": {}}', "is not a list of OnCallStep"),
        ('{"k": "EscalationRequested", "agent": "a", "at": 1, "chain": [{"name": "x"}]}', "KeyError"),
        (
            '{"k": "EscalationRequested", "agent": "a", "at": 1, "chain": [{"name": "x", "endpoint": "e",'
            ' "ring_timeout_s": 1, "number": null, "tier": "primary"}]}',
            r"unknown fields \['tier'\] of OnCallStep",
        ),
    ],
)
def test_given_a_line_of_another_release_then_it_is_refused_by_name(line: str, named: str) -> None:
    pattern = named if "\\" in named else named.replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(UnreadableEvent, match=pattern):
        decode(line)


def test_given_an_escalation_journalled_before_chains_then_it_reads_with_the_lines_chain() -> None:
    assert decode('{"k":"EscalationRequested","agent":"a1","at":20.0}') == ev.EscalationRequested(
        AgentId("a1"), 20.0
    )


def test_given_an_escalation_with_its_chain_then_the_chain_is_a_list_of_objects() -> None:
    step = OnCallStep("Dr. Who", "Local/+1555@out", 25.0, number="+1555")
    text = encode(ev.EscalationRequested(AgentId("a1"), 20.0, (step,)))
    assert json.loads(text)["chain"] == [
        {
            "name": "Dr. Who",
            "endpoint": "Local/+1555@out",
            "ring_timeout_s": 25.0,
            "number": "+1555",
            "warm": False,
        }
    ]


def test_given_a_chain_journalled_before_warm_patches_then_its_people_read_as_cold() -> None:
    line = (
        '{"k":"EscalationRequested","agent":"a1","at":20.0,"chain":[{"name":"Dr. Who","endpoint":"PJSIP/who",'
    )
    line += '"ring_timeout_s":25.0,"number":null}]}'
    (step,) = typing.cast(ev.EscalationRequested, decode(line)).chain
    assert step == OnCallStep("Dr. Who", "PJSIP/who", 25.0) and not step.warm


def test_given_a_warm_patch_decision_then_its_flag_must_be_a_boolean() -> None:
    assert decode(encode(ev.WarmPatchDecided(AgentId("a1"), 30.0, connect=False))) == ev.WarmPatchDecided(
        AgentId("a1"), 30.0, False
    )
    with pytest.raises(UnreadableEvent, match="'yes' is not a bool"):
        decode('{"k":"WarmPatchDecided","agent":"a1","at":30.0,"connect":"yes"}')
