"""Each queue's service-level target, ``[queues.<id>.service_level]``, for the supervisors' reports.

    [queues.acme.service_level]
    answer_within_s = 20      # T: a call answered (or abandoned) after waiting at most T is "within"
    goal = 0.80               # the share of calls the center promises to answer within T
    formula = "offered"       # answered | offered | late-abandons | within-both (docs/figures.md)
    short_abandon_s = 5       # abandons after a shorter wait are left out of every count; 0: none

Every key is optional (the defaults are above); unknown keys are refused, as everywhere in the config.
config/ may not import crm_core, so the target is a plain ``ServiceLevel`` with the same fields as
``crm_core.domain.figures.ServiceTarget``; the formula names are the same strings (a test holds them equal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config.values import ConfigError, known_keys, positive, seconds, table, tables
from routing.ids import QueueId

SERVICE_LEVEL_KEYS = ("answer_within_s", "goal", "formula", "short_abandon_s")
FORMULAS = ("answered", "offered", "late-abandons", "within-both")


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    answer_within_s: float = 20.0
    goal: float = 0.80
    formula: str = "offered"
    short_abandon_s: float = 5.0


DEFAULT_SERVICE_LEVEL = ServiceLevel()


def service_levels(raw: Mapping[str, Any]) -> dict[QueueId, ServiceLevel]:
    """Every queue's target; a queue without ``[queues.<id>.service_level]`` has the defaults."""
    return {
        QueueId(key): _target(table(queue, "service_level", f"queues.{key}."), f"queues.{key}.service_level.")
        for key, queue in tables(raw, "queues").items()
    }


def _target(raw: Mapping[str, Any], where: str) -> ServiceLevel:
    known_keys(raw, SERVICE_LEVEL_KEYS, where)
    formula = raw.get("formula", DEFAULT_SERVICE_LEVEL.formula)
    if formula not in FORMULAS:
        raise ConfigError(f"{where}formula: {formula!r} is not one of {', '.join(FORMULAS)}")
    goal = raw.get("goal", DEFAULT_SERVICE_LEVEL.goal)
    if isinstance(goal, bool) or not isinstance(goal, int | float) or not 0 < goal <= 1:
        raise ConfigError(f"{where}goal: {goal!r} must be a share above 0 and at most 1 (0.80 is 80 %)")
    return ServiceLevel(
        answer_within_s=positive(raw.get("answer_within_s", 20), f"{where}answer_within_s"),
        goal=float(goal),
        formula=formula,
        short_abandon_s=seconds(raw, "short_abandon_s", DEFAULT_SERVICE_LEVEL.short_abandon_s, where),
    )


def without_service_levels(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with the service-level tables taken out of ``[queues]``, for the routing plan's reader."""
    queues = {
        key: {k: v for k, v in queue.items() if k != "service_level"}
        for key, queue in tables(raw, "queues").items()
    }
    return {**raw, "queues": queues}
