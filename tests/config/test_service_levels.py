"""``[queues.<id>.service_level]``: each queue's target for the reports, validated key by key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.service_levels import FORMULAS, ServiceLevel
from config.settings import ConfigError, load, parse
from crm_core.domain.figures import ServiceLevelFormula, ServiceTarget
from routing.ids import QueueId
from switchboard.bootstrap import normaliser

ROOT = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = {
    "ari": {"password": "secret"},
    "routing": {"timezone": "Europe/Paris"},
    "queues": {"q": {"name": "Q"}, "other": {"name": "Other"}},
    "lines": {"acme": {"name": "Acme", "queue": "q", "dids": {"radio": "(800) 555-0101"}}},
    "agents": {"1001": {"endpoint": "PJSIP/1001", "queues": ["q"]}},
}


def with_target(**target: object) -> dict[str, Any]:
    return {**BASE, "queues": {**BASE["queues"], "q": {"name": "Q", "service_level": target}}}


def test_given_no_service_level_table_when_parsed_then_every_queue_has_the_documented_defaults() -> None:
    settings = parse(BASE, normaliser, env={})

    defaults = ServiceLevel(answer_within_s=20.0, goal=0.80, formula="offered", short_abandon_s=5.0)
    assert settings.service_targets == {"q": defaults, "other": defaults}
    assert settings.default_target == defaults
    assert settings.report_zone == ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("answer_within_s", 30, ServiceLevel(answer_within_s=30.0)),
        ("answer_within_s", 12.5, ServiceLevel(answer_within_s=12.5)),
        ("goal", 0.9, ServiceLevel(goal=0.9)),
        ("goal", 1, ServiceLevel(goal=1.0)),
        ("formula", "answered", ServiceLevel(formula="answered")),
        ("formula", "late-abandons", ServiceLevel(formula="late-abandons")),
        ("formula", "within-both", ServiceLevel(formula="within-both")),
        ("short_abandon_s", 0, ServiceLevel(short_abandon_s=0.0)),
        ("short_abandon_s", 8, ServiceLevel(short_abandon_s=8.0)),
    ],
)
def test_given_one_key_when_parsed_then_only_that_field_of_that_queue_changes(
    key: str, value: object, expected: ServiceLevel
) -> None:
    settings = parse(with_target(**{key: value}), normaliser, env={})

    assert settings.service_targets[QueueId("q")] == expected
    assert settings.service_targets[QueueId("other")] == ServiceLevel()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"answer_within_s": 0}, "queues.q.service_level.answer_within_s: 0 must be a positive number"),
        ({"answer_within_s": "20"}, "queues.q.service_level.answer_within_s: '20' must be a positive"),
        ({"goal": 0}, "queues.q.service_level.goal: 0 must be a share above 0 and at most 1"),
        ({"goal": 80}, "queues.q.service_level.goal: 80 must be a share above 0 and at most 1"),
        ({"goal": True}, "queues.q.service_level.goal: True must be a share"),
        ({"formula": "asa"}, "queues.q.service_level.formula: 'asa' is not one of answered, offered, "
                             "late-abandons, within-both"),
        ({"short_abandon_s": -1}, "queues.q.service_level.short_abandon_s: -1 must be a number of seconds"),
        ({"answer_within": 20}, "queues.q.service_level.answer_within: unknown key (valid keys: "
                                "answer_within_s, goal, formula, short_abandon_s)"),
    ],
)  # fmt: skip
def test_given_a_bad_value_or_unknown_key_when_parsed_then_config_error_names_it(
    target: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse(with_target(**target), normaliser, env={})


def test_given_a_service_level_that_is_not_a_table_when_parsed_then_refused() -> None:
    raw = {**BASE, "queues": {**BASE["queues"], "q": {"name": "Q", "service_level": 0.8}}}
    with pytest.raises(ConfigError, match=re.escape("queues.q.service_level must be a table")):
        parse(raw, normaliser, env={})


def test_given_the_shipped_example_when_loaded_then_acme_has_its_target_and_the_plan_ignores_it() -> None:
    settings = load(ROOT / "config" / "switchboard.toml", normaliser, env={})

    assert settings.service_targets[QueueId("acme")] == ServiceLevel(20.0, 0.80, "offered", 5.0)
    assert settings.plan.queues[QueueId("acme")].name == "Acme Service"
    assert settings.report_zone == ZoneInfo("America/New_York")


def test_the_formula_names_are_the_ones_the_figures_know() -> None:
    assert tuple(formula.value for formula in ServiceLevelFormula) == FORMULAS
    assert ServiceLevel() == ServiceLevel(**{f: getattr(ServiceTarget(), f) for f in ServiceLevel.__slots__})
