"""The command table: every command class to its consumers, refused when it is built wrong; and the bus
handing each command to the consumers the table names, then to the watchers."""

from __future__ import annotations

import typing

import pytest

from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId
from switchboard.bus import LocalBus
from switchboard.command_table import CommandTable, Handler, WiringError

PBX_COMMANDS = typing.get_args(cmd.PbxCommand)
NOTICES = typing.get_args(cmd.NoticeCommand)
A1, C1, O1 = AgentId("a1"), CallId("c1"), OfferId("o1")
POP = cmd.PopScreen(
    agent=A1,
    call=C1,
    offer=O1,
    caller_number=None,
    caller_name=None,
    did="+18005550101",
    source="web",
    line=LineId("acme"),
    line_name="Acme",
    queue=QueueId("q"),
    waited_s=0.0,
)
WITHDRAWN = cmd.WithdrawOffer(A1, C1, O1, "caller-hung-up")
SHARED_WITHDRAWAL = {cmd.WithdrawOffer: ("console", "rest")}


class Seen:
    """Consumers that note what they were handed, under their own name."""

    def __init__(self) -> None:
        self.got: list[tuple[str, type]] = []

    def pbx(self, command: cmd.PbxCommand) -> None:
        self.got.append(("pbx", type(command)))

    def console(self, command: cmd.PopScreen | cmd.WithdrawOffer) -> None:
        self.got.append(("console", type(command)))

    def metrics(self, command: cmd.PopScreen) -> None:
        self.got.append(("metrics", type(command)))

    def rest(self, command: cmd.NoticeCommand) -> None:
        self.got.append(("rest", type(command)))

    def watch(self, command: cmd.Command) -> None:
        self.got.append(("watcher", type(command)))


def test_given_one_consumer_per_command_then_each_class_has_exactly_that_consumer() -> None:
    seen = Seen()
    table = CommandTable({"pbx": seen.pbx, "rest": seen.rest})
    assert {kind: table.takers(kind) for kind in PBX_COMMANDS} == dict.fromkeys(PBX_COMMANDS, ("pbx",))
    assert {kind: table.takers(kind) for kind in NOTICES} == dict.fromkeys(NOTICES, ("rest",))


def test_given_a_command_nobody_takes_when_built_then_wiring_error_names_it() -> None:
    seen = Seen()
    consumers: dict[str, Handler] = {"pbx": seen.pbx, "console": seen.console, "metrics": seen.metrics}
    with pytest.raises(WiringError, match="nobody takes IdentifyCaller"):
        CommandTable(consumers, {cmd.PopScreen: ("console", "metrics")})


def test_given_two_consumers_of_a_command_not_declared_shared_when_built_then_wiring_error() -> None:
    seen = Seen()
    consumers: dict[str, Handler] = {"pbx": seen.pbx, "console": seen.console, "rest": seen.rest}
    with pytest.raises(WiringError, match="PopScreen is taken by console, rest but shared by nobody"):
        CommandTable(consumers, SHARED_WITHDRAWAL)


def test_given_a_sharing_declared_with_other_consumers_when_built_then_wiring_error() -> None:
    seen = Seen()
    consumers: dict[str, Handler] = {"pbx": seen.pbx, "console": seen.console, "rest": seen.rest}
    refused = "PopScreen is taken by console, rest but shared by console, metrics"
    with pytest.raises(WiringError, match=refused):
        CommandTable(consumers, {cmd.PopScreen: ("console", "metrics"), **SHARED_WITHDRAWAL})


def test_given_a_sharing_declared_for_a_command_one_consumer_takes_when_built_then_wiring_error() -> None:
    seen = Seen()
    with pytest.raises(WiringError, match="LogCall is declared shared by call-log, rest but taken by rest"):
        CommandTable({"pbx": seen.pbx, "rest": seen.rest}, {cmd.LogCall: ("rest", "call-log")})


def test_given_a_handler_taking_an_event_when_built_then_wiring_error() -> None:
    seen = Seen()

    def hears(event: ev.CallArrived) -> None: ...

    with pytest.raises(WiringError, match="arrivals takes CallArrived, which is not a command"):
        CommandTable({"pbx": seen.pbx, "rest": seen.rest, "arrivals": hears})


def test_given_a_handler_without_an_annotation_when_built_then_wiring_error() -> None:
    seen = Seen()
    untyped: Handler = lambda command: None  # noqa: E731
    with pytest.raises(WiringError, match="must take one argument annotated"):
        CommandTable({"pbx": seen.pbx, "rest": seen.rest, "untyped": untyped})


def test_given_several_problems_when_built_then_every_one_is_named() -> None:
    seen = Seen()
    with pytest.raises(WiringError) as refused:
        CommandTable({"console": seen.console, "metrics": seen.metrics})
    message = str(refused.value)
    assert "nobody takes AnswerCall" in message and "nobody takes LogCall" in message
    assert "PopScreen is taken by console, metrics but shared by nobody" in message


def test_given_a_table_when_published_then_its_consumers_in_order_then_watchers_then_subscribers() -> None:
    seen = Seen()
    consumers: dict[str, Handler] = {
        "pbx": seen.pbx,
        "console": seen.console,
        "metrics": seen.metrics,
        "rest": seen.rest,
    }
    shared = {cmd.PopScreen: ("console", "metrics", "rest"), **SHARED_WITHDRAWAL}
    table = CommandTable(consumers, shared, watchers=[seen.watch])
    bus = LocalBus(table)
    late: list[cmd.Command] = []
    bus.subscribe(late.append)

    bus.publish(POP)
    bus.publish(cmd.AnswerCall(CallId("c1")))

    assert seen.got == [
        ("console", cmd.PopScreen),
        ("metrics", cmd.PopScreen),
        ("rest", cmd.PopScreen),
        ("watcher", cmd.PopScreen),
        ("pbx", cmd.AnswerCall),
        ("watcher", cmd.AnswerCall),
    ]
    assert late == [POP, cmd.AnswerCall(CallId("c1"))]


def test_given_a_consumer_that_raises_when_published_then_the_others_still_get_the_command() -> None:
    seen = Seen()

    def broken(command: cmd.PopScreen | cmd.WithdrawOffer) -> None:
        raise RuntimeError("a bug")

    shared = {cmd.PopScreen: ("broken", "rest"), cmd.WithdrawOffer: ("broken", "rest")}
    table = CommandTable({"pbx": seen.pbx, "broken": broken, "rest": seen.rest}, shared)
    LocalBus(table).publish(WITHDRAWN)
    assert seen.got == [("rest", cmd.WithdrawOffer)]


def test_given_a_bus_without_a_table_then_only_its_subscribers_see_commands() -> None:
    bus = LocalBus()
    late: list[cmd.Command] = []
    bus.subscribe(late.append)
    bus.publish(WITHDRAWN)
    assert late == [WITHDRAWN]
