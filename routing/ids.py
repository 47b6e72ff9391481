"""Identifier types, so a call id is never passed where an agent id is expected."""

from typing import NewType

CallId = NewType("CallId", str)  # the caller's channel id in the PBX
AgentId = NewType("AgentId", str)
QueueId = NewType("QueueId", str)
LineId = NewType("LineId", str)
OfferId = NewType("OfferId", str)  # the agent leg's channel id, chosen by the router
BridgeId = NewType("BridgeId", str)
SupervisorLegId = NewType("SupervisorLegId", str)  # a supervisor's phone leg, chosen by the router


def offer_id(call: CallId, attempt: int) -> OfferId:
    """Agent-leg ids carry the ``sb-`` prefix so the PBX adapter can tell them from callers' channels."""
    return OfferId(f"sb-{call}-{attempt}")


def bridge_id(call: CallId) -> BridgeId:
    return BridgeId(f"sb-bridge-{call}")


def is_offer_channel(channel_id: str) -> bool:
    return channel_id.startswith("sb-")


def callback_id(call: CallId) -> CallId:
    """The callback for ``call`` is a call of its own; its id is the customer leg's channel id."""
    return CallId(f"sb-cb-{call}")


def is_callback_leg(channel_id: str) -> bool:
    return channel_id.startswith("sb-cb-")


def recording_name(call: CallId) -> str:
    return f"sb-vm-{call}"


def segment_id(call: CallId, part: int) -> CallId:
    """The call-log id of the ``part``-th stretch of ``call`` an agent handed on (a transfer, an escalation).

    The caller's channel keeps ``call``; each agent who let go of the caller gets a record of their own,
    so every agent's talk time is counted, and the record of the call as a whole stays under ``call``.
    """
    return CallId(f"{call}~{part}")


def supervisor_leg_id(call: CallId, n: int) -> SupervisorLegId:
    """The ``n``-th supervisor leg on ``call``; ``sb-sv-`` tells it from offers (``sb-<call>-<n>``)."""
    return SupervisorLegId(f"sb-sv-{call}-{n}")


def is_supervisor_leg(channel_id: str) -> bool:
    return channel_id.startswith("sb-sv-")


def snoop_id(leg: SupervisorLegId) -> str:
    """The snoop channel on the agent's leg that a listening or whispering supervisor's leg hears."""
    return f"sb-snoop-{leg.removeprefix('sb-sv-')}"


def is_snoop_channel(channel_id: str) -> bool:
    return channel_id.startswith("sb-snoop-")


def supervision_bridge_id(leg: SupervisorLegId) -> BridgeId:
    """The supervisor's own bridge: their leg and the snoop channel."""
    return BridgeId(f"sb-svbridge-{leg.removeprefix('sb-sv-')}")
