"""The router's refusals as data for another instance (switchboard/cluster/error_codec.py): what it does
not know comes back as a plain RoutingError with the leader's message, never as nothing or a crash.
(Each routing.errors class round-trips through real Redis in test_cluster_asks.)"""

from __future__ import annotations

import json

import pytest

from routing import errors
from routing.errors import RoutingError
from switchboard.cluster.error_codec import KINDS, decode, encode


class NotAllowedWhileRinging(errors.IllegalTransition):
    """A refusal defined outside routing.errors, as a later release's might be."""


class Unexplained(RoutingError):
    pass


def test_the_table_holds_every_refusal_of_routing_errors() -> None:
    defined = {c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, RoutingError)}
    assert set(KINDS.values()) == defined


def test_given_a_subclass_from_elsewhere_then_it_travels_as_its_routing_errors_parent() -> None:
    sent = NotAllowedWhileRinging("a1", "ringing", "hold")
    got = decode(json.loads(json.dumps(encode(sent))))
    assert type(got) is errors.IllegalTransition
    assert (got.subject, got.state, got.trigger, str(got)) == ("a1", "ringing", "hold", str(sent))


def test_given_a_plain_refusal_then_its_message_travels() -> None:
    got = decode(encode(Unexplained("the plan says no")))
    assert type(got) is RoutingError and str(got) == "the plan says no"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "AgentTeleported", "args": {}, "message": "the leader's words"},
        {"kind": "UnknownAgent", "args": {"agent": 7}, "message": "the leader's words"},
        {"kind": "UnknownAgent", "args": {"who": "a1"}, "message": "the leader's words"},
        {"kind": "UnknownAgent", "args": "a1", "message": "the leader's words"},
    ],
    ids=["unknown kind", "argument not a string", "other arguments", "arguments not a mapping"],
)
def test_given_a_refusal_this_release_cannot_rebuild_then_a_routing_error_with_its_message(
    body: dict[str, object],
) -> None:
    got = decode(body)
    assert type(got) is RoutingError and str(got) == "the leader's words"


def test_given_no_refusal_at_all_then_a_routing_error_saying_so() -> None:
    got = decode(None)
    assert type(got) is RoutingError and "unreadable refusal" in str(got)
