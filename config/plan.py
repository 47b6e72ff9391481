"""The routing plan out of the config file: queues, lines and their numbers, agents, ``[routing]``.

Every table refuses keys it does not know, so a misspelt key is an error rather than a silent default.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from config.hours import _chain as on_call_chain  # the same {name, endpoint, ring_timeout_s} list
from config.hours import after_hours, hours, zone
from config.values import (
    ConfigError,
    choice,
    integer,
    known_keys,
    levels,
    positive,
    seconds,
    string,
    strings,
    table,
    tables,
)
from routing.ids import AgentId, LineId, QueueId
from routing.plan import (
    DEFAULT_PAUSE_REASONS,
    Action,
    Agent,
    Did,
    Line,
    NoAnswerPolicy,
    Plan,
    Priorities,
    Queue,
    Rule,
    Strategy,
)

Normalise = Callable[[str], str | None]

QUEUE_KEYS = (
    "name", "ring_timeout_s", "max_wait_s", "strategy", "skills", "rules", "max_length", "when_full",
    "full_queue", "wrap_up_s", "sticky_s", "priorities", "announce_every_s", "expected_handle_s",
    "no_answer", "voicemail_max_s",
)  # fmt: skip
LINE_KEYS = ("name", "queue", "dids", "hours", "after_hours", "on_call", "escalation_rounds")
AGENT_KEYS = ("name", "endpoint", "queues", "penalties", "skills")
ROUTING_KEYS = ("identify_timeout_s", "offer_grace_s", "pause_reasons", "timezone")
WHEN_FULL = (Action.VOICEMAIL, Action.HANG_UP, Action.MOVE)
NEEDS_QUEUE = (Action.MOVE, Action.ADD_QUEUE)


def plan(raw: Mapping[str, Any], normalise: Normalise) -> Plan:
    found = tables(raw, "queues")
    names = {QueueId(key) for key in found}
    queues = {QueueId(key): _queue(key, q, names) for key, q in found.items()}
    lines, dids = _lines(tables(raw, "lines"), queues, normalise)
    agents: dict[AgentId, Agent] = {}
    for key, a in tables(raw, "agents").items():
        if "pin" in a:  # said plainly, rather than as an unknown key: older configs had one
            raise ConfigError(
                f"agents.{key}.pin: console PINs were replaced by user accounts; remove it and run "
                f"`switchboard users add <name> --role agent --agent {key}`"
            )
        agents[AgentId(key)] = _agent(key, a, names)
    routing = table(raw, "routing")
    known_keys(routing, ROUTING_KEYS, "routing.")
    return Plan(
        dids=dids,
        lines=lines,
        queues=queues,
        agents=agents,
        offer_grace_s=positive(routing.get("offer_grace_s", 5), "routing.offer_grace_s"),
        identify_timeout_s=positive(routing.get("identify_timeout_s", 1), "routing.identify_timeout_s"),
        pause_reasons=strings(routing, "pause_reasons", DEFAULT_PAUSE_REASONS, "routing."),
        timezone=zone(routing.get("timezone", "UTC"), "routing.timezone"),
    )


def _queue(key: str, q: Mapping[str, Any], names: Collection[QueueId]) -> Queue:
    where = f"queues.{key}."
    known_keys(q, QUEUE_KEYS, where)
    when_full = choice(q, "when_full", Action, Action.VOICEMAIL, where)
    if when_full not in WHEN_FULL:
        raise ConfigError(f"{where}when_full: {when_full.value!r} is not one of voicemail, hang-up, move")
    full_queue = _queue_ref(q, "full_queue", names, where) if "full_queue" in q else None
    if when_full is Action.MOVE and full_queue is None:
        raise ConfigError(f"{where}full_queue: when_full = 'move' needs the queue to move calls to")
    return Queue(
        id=QueueId(key),
        name=string(q, "name", key, where),
        ring_timeout_s=positive(q.get("ring_timeout_s", 15), f"{where}ring_timeout_s"),
        max_wait_s=positive(q.get("max_wait_s", 900), f"{where}max_wait_s"),
        strategy=choice(q, "strategy", Strategy, Strategy.LONGEST_IDLE, where),
        skills=levels(q, "skills", where),
        rules=_rules(q.get("rules", []), names, f"{where}rules"),
        max_length=integer(q, "max_length", 0, where, minimum=0),
        when_full=when_full,
        full_queue=full_queue,
        wrap_up_s=seconds(q, "wrap_up_s", 0, where),
        sticky_s=seconds(q, "sticky_s", 0, where),
        priorities=_priorities(table(q, "priorities", where), f"{where}priorities."),
        announce_every_s=seconds(q, "announce_every_s", 60, where),
        expected_handle_s=positive(q.get("expected_handle_s", 180), f"{where}expected_handle_s"),
        no_answer=_no_answer(table(q, "no_answer", where), f"{where}no_answer."),
        voicemail_max_s=positive(q.get("voicemail_max_s", 180), f"{where}voicemail_max_s"),
    )


def _queue_ref(raw: Mapping[str, Any], key: str, names: Collection[QueueId], where: str) -> QueueId:
    queue = QueueId(string(raw, key, None, where))
    if queue not in names:
        raise ConfigError(f"{where}{key}: no queue named {queue!r}")
    return queue


def _rules(value: Any, names: Collection[QueueId], key: str) -> tuple[Rule, ...]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ConfigError(f"{key}: a list of {{after_s, action, ...}} tables is required")
    rules = (_rule(r, names, f"{key}[{n}].") for n, r in enumerate(value))
    return tuple(sorted(rules, key=lambda r: r.after_s))


def _rule(raw: Mapping[str, Any], names: Collection[QueueId], where: str) -> Rule:
    known_keys(raw, ("after_s", "action", "queue", "skills"), where)
    if "action" not in raw:
        raise ConfigError(f"{where}action: required (one of {', '.join(a.value for a in Action)})")
    action = choice(raw, "action", Action, Action.VOICEMAIL, where)
    if action in NEEDS_QUEUE and "queue" not in raw:
        raise ConfigError(f"{where}queue: action {action.value!r} needs a queue")
    if action not in NEEDS_QUEUE and "queue" in raw:
        raise ConfigError(f"{where}queue: only move and add-queue rules name a queue")
    skills = levels(raw, "skills", where)
    if action is Action.WIDEN and not skills:
        raise ConfigError(f"{where}skills: a widen rule needs the new skill levels (0 drops a skill)")
    if action is not Action.WIDEN and skills:
        raise ConfigError(f"{where}skills: only widen rules change skills")
    queue = _queue_ref(raw, "queue", names, where) if action in NEEDS_QUEUE else None
    return Rule(seconds(raw, "after_s", 0, where), action, queue, skills)


def _priorities(raw: Mapping[str, Any], where: str) -> Priorities:
    known_keys(raw, ("tiers", "repeat_within_s", "repeat", "callback"), where)
    tiers = table(raw, "tiers", where)
    return Priorities(
        tiers={tier: integer(tiers, tier, 0, f"{where}tiers.") for tier in tiers},
        repeat_within_s=seconds(raw, "repeat_within_s", 0, where),
        repeat=integer(raw, "repeat", 0, where),
        callback=integer(raw, "callback", 0, where),
    )


def _no_answer(raw: Mapping[str, Any], where: str) -> NoAnswerPolicy:
    known_keys(raw, ("misses", "pause_s"), where)
    return NoAnswerPolicy(integer(raw, "misses", 1, where, minimum=1), seconds(raw, "pause_s", 0, where))


def _lines(
    found: Mapping[str, Mapping[str, Any]], queues: Mapping[QueueId, Queue], normalise: Normalise
) -> tuple[dict[LineId, Line], dict[str, Did]]:
    lines: dict[LineId, Line] = {}
    dids: dict[str, Did] = {}
    for key, ln in found.items():
        where = f"lines.{key}."
        known_keys(ln, LINE_KEYS, where)
        queue = _queue_ref(ln, "queue", queues, where)
        line_hours = hours(table(ln, "hours", where), f"{where}hours.") if "hours" in ln else None
        policy = after_hours(table(ln, "after_hours", where), queues, f"{where}after_hours.")
        # Who an agent escalates a caller to ([[lines.<id>.on_call]]); after hours, after_hours.chain rings.
        chain = on_call_chain(ln.get("on_call", []), f"{where}on_call")
        name = string(ln, "name", key, where)
        # How many times an escalation goes through its chain (the schedule's, else on_call) before the
        # caller is back with the agent.
        rounds = integer(ln, "escalation_rounds", 2, where, minimum=1)
        lines[LineId(key)] = Line(id=LineId(key), name=name, queue=queue, hours=line_hours,
                                  after_hours=policy, on_call=chain, escalation_rounds=rounds)  # fmt: skip
        for source, number in table(ln, "dids", where).items():
            e164 = normalise(str(number))
            if e164 is None:
                raise ConfigError(f"{where}dids.{source}: {number!r} is not a phone number")
            if e164 in dids:
                raise ConfigError(f"{where}dids.{source}: {e164} is already on line {dids[e164].line!r}")
            dids[e164] = Did(e164, source, LineId(key))
    return lines, dids


def _agent(key: str, a: Mapping[str, Any], names: Collection[QueueId]) -> Agent:
    where = f"agents.{key}."
    known_keys(a, AGENT_KEYS, where)
    listed = a.get("queues", [])
    if not isinstance(listed, list) or not all(isinstance(q, str) for q in listed):
        raise ConfigError(f"{where}queues: a list of queue names is required")
    penalties = {QueueId(q): level for q, level in levels(a, "penalties", where).items()}
    member_of = tuple(dict.fromkeys([*(QueueId(q) for q in listed), *penalties]))
    for member in member_of:
        if member not in names:
            which = "queues" if member in listed else "penalties"
            raise ConfigError(f"{where}{which}: no queue named {member!r}")
    return Agent(
        id=AgentId(key),
        name=string(a, "name", key, where),
        endpoint=string(a, "endpoint", None, where),
        queues=member_of,
        penalties=penalties,
        skills=levels(a, "skills", where),
    )
