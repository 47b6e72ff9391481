"""The routing plan: numbers, service lines, queues and agents, as plain immutable data.

Built by ``config`` from the config file; the router only reads it. DIDs are already E.164 here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from routing.ids import AgentId, LineId, QueueId


@dataclass(frozen=True, slots=True)
class Did:
    number: str  # E.164
    source: str  # the ad source / campaign tag the number stands for
    line: LineId


@dataclass(frozen=True, slots=True)
class Line:
    id: LineId
    name: str
    queue: QueueId


@dataclass(frozen=True, slots=True)
class Queue:
    id: QueueId
    name: str
    ring_timeout_s: float = 15.0
    # A caller who has waited this long leaves with outcome no-agent instead of waiting forever.
    max_wait_s: float = 900.0


@dataclass(frozen=True, slots=True)
class Agent:
    id: AgentId
    name: str
    endpoint: str  # what the PBX dials, e.g. PJSIP/1001
    queues: tuple[QueueId, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    dids: Mapping[str, Did] = field(default_factory=dict)
    lines: Mapping[LineId, Line] = field(default_factory=dict)
    queues: Mapping[QueueId, Queue] = field(default_factory=dict)
    agents: Mapping[AgentId, Agent] = field(default_factory=dict)
    # The router's own safety net for a PBX that never reports the end of a ring.
    offer_grace_s: float = 5.0
