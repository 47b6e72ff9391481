"""Calls that died with Asterisk: on a reconnect the adapter asks when Asterisk started, and the channels
gone since it last knew them end as the PBX's doing (``pbx-restart``), not as hangups nobody saw."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import pytest

from crm_core.domain.phones import to_e164
from routing import events as ev
from routing.ids import CallId, OfferId
from routing.records import EndReason
from telephony.ari_client import AriClient
from telephony.errors import AriUnavailable
from telephony.pbx import AriPbx
from telephony.translate import is_shutdown_hangup, pbx_clock, reconcile, startup_time

NORMALISE = functools.partial(to_e164, region="US")
BOOT = "2026-12-04T20:48:53.470+0000"
LATER = "2026-12-04T21:10:00.000+0000"


class FakeAri(AriClient):
    """Answers ``/asterisk/info`` and ``/channels`` from what the test sets; nothing goes out."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:1", "u", "p", "sb")
        self.started: object = BOOT
        self.listed: list[dict[str, Any]] = []
        self.answered: dict[str, str] = {}  # CDR(answer,u) of each channel, as Asterisk gives it
        self.sent: list[tuple[str, str]] = []  # every other request: (method, path)

    async def request(
        self, method: str, path: str, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Any:
        self.sent.append((method, path))

    async def info(self, status_only: bool = False) -> Any:
        return {"status": {"startup_time": self.started}}

    async def channels(self) -> list[Any]:
        return self.listed

    async def bridges(self) -> list[Any]:
        return []

    async def variable(self, channel: str, name: str) -> str:
        assert name == "CDR(answer,u)"
        return self.answered.get(channel, "0.000000")


def adapter(ari: FakeAri) -> tuple[AriPbx, list[ev.Event]]:
    events: list[ev.Event] = []
    return AriPbx(ari, events.append, lambda: pbx_clock(LATER) + 60, NORMALISE), events


def test_given_a_start_time_then_it_reads_as_unix_seconds() -> None:
    assert pbx_clock(BOOT) == pytest.approx(1796417333.47)
    assert startup_time({"status": {"startup_time": BOOT}}) == BOOT


@pytest.mark.parametrize(
    "info", [{}, {"status": "up"}, {"status": {"startup_time": 5}}, {"status": {"startup_time": "soon"}}, []]
)
def test_given_an_unreadable_start_time_then_none(info: Any) -> None:
    assert startup_time(info) is None


def test_given_the_pbx_restarted_when_reconciling_then_callers_end_first_as_the_pbxs_doing() -> None:
    events, _ = reconcile({"sb-c1-1", "c1", "test-c2;2"}, [], "sb", 9.0, NORMALISE, pbx_restarted=True)
    assert events == [  # "test-..." sorts after "sb-...", yet no leg's end comes before a caller's
        ev.CallGone(CallId("c1"), 9.0, EndReason.PBX_RESTART),
        ev.CallGone(CallId("test-c2;2"), 9.0, EndReason.PBX_RESTART),
        ev.OfferLost(OfferId("sb-c1-1"), 9.0),  # its call has ended already: nothing for the router
    ]


async def test_given_asterisk_restarted_between_two_connects_then_the_gone_calls_died_with_it() -> None:
    ari = FakeAri()
    pbx, events = adapter(ari)
    await pbx._reconcile()  # the first connect: Asterisk as it booted
    pbx.on_message('{"type": "StasisStart", "channel": {"id": "c1"}, "args": ["inbound", "18005550101"]}')
    events.clear()
    ari.started = LATER  # the websocket dropped and Asterisk came back a new process
    await pbx._reconcile()
    assert events == [ev.CallGone(CallId("c1"), pbx_clock(LATER) + 60, EndReason.PBX_RESTART)]


async def test_given_the_same_asterisk_after_a_reconnect_then_a_gone_call_ended_unseen() -> None:
    ari = FakeAri()
    pbx, events = adapter(ari)
    await pbx._reconcile()
    pbx.on_message('{"type": "StasisStart", "channel": {"id": "c1"}, "args": ["inbound", "18005550101"]}')
    events.clear()
    await pbx._reconcile()  # same start time: only the events socket was down
    assert [e.reason for e in events if isinstance(e, ev.CallGone)] == [EndReason.UNSEEN]


@pytest.mark.parametrize(
    ("as_of", "reason"),
    [
        (pbx_clock(LATER) - 5, EndReason.PBX_RESTART),
        (pbx_clock(LATER) + 5, EndReason.UNSEEN),
        (None, EndReason.UNSEEN),
    ],
)
async def test_given_our_restart_then_asterisks_start_is_compared_with_the_books_last_event(
    as_of: float | None, reason: EndReason
) -> None:
    ari = FakeAri()
    ari.started = LATER
    pbx, events = adapter(ari)
    pbx.adopt({"c1"}, as_of)  # the books knew c1 alive at as_of
    await pbx._reconcile()
    assert [e.reason for e in events if isinstance(e, ev.CallGone)] == [reason]


async def test_given_a_known_caller_still_ringing_after_our_restart_then_answered_and_on_music() -> None:
    """Killed after the caller's arrival but before their answer went out: the caller is answered when
    the service is back, and hears the hold music."""
    ari = FakeAri()
    states = {"c1": "Ring", "c2": "Up", "sb-c1-1": "Ring"}
    ari.listed = [{"id": c, "state": state} for c, state in states.items()]
    pbx, _ = adapter(ari)
    pbx.adopt({"c1", "c2", "sb-c1-1"}, None)
    await pbx._reconcile()
    await pbx.idle()
    assert ari.sent == [("POST", "/channels/c1/answer"), ("POST", "/channels/c1/moh")]


async def test_given_no_start_time_from_asterisk_then_gone_calls_ended_unseen() -> None:
    ari = FakeAri()
    ari.started = None
    pbx, events = adapter(ari)
    pbx.adopt({"c1"}, 0.0)
    await pbx._reconcile()
    assert [e.reason for e in events if isinstance(e, ev.CallGone)] == [EndReason.UNSEEN]


def hangup_request(channel: str, cause: int, soft: bool | None = True) -> str:
    body: dict[str, Any] = {"type": "ChannelHangupRequest", "channel": {"id": channel}, "cause": cause}
    if soft is not None:
        body["soft"] = soft
    return json.dumps(body)


@pytest.mark.parametrize(
    ("cause", "soft", "shutdown"),
    [(4, True, True), (4 | 32, True, True), (32, True, False), (16, None, False), (4, None, False)],
)
def test_given_a_hangup_request_then_only_a_soft_one_with_the_shutdown_flag_means_the_pbx_stops(
    cause: int, soft: bool | None, shutdown: bool
) -> None:  # recorded on the sandbox: ``core restart now`` sends cause 4, soft, for every channel
    assert is_shutdown_hangup(json.loads(hangup_request("c1", cause, soft))) is shutdown


def test_given_asterisk_shutting_down_then_every_call_ends_at_once_as_the_pbxs_doing() -> None:
    pbx, events = adapter(FakeAri())
    for channel in ("c1", "c2", "sb-c1-1"):
        args = ["agent", "c1", "a1"] if channel.startswith("sb-") else ["inbound", "18005550101"]
        pbx.on_message(json.dumps({"type": "StasisStart", "channel": {"id": channel}, "args": args}))
    events.clear()
    pbx.on_message(hangup_request("sb-c1-1", 4))  # the agent's leg first: the call still ends by the system
    pbx.on_message(hangup_request("c1", 4))
    at = pbx_clock(LATER) + 60
    assert events == [
        ev.CallGone(CallId("c1"), at, EndReason.PBX_RESTART),
        ev.CallGone(CallId("c2"), at, EndReason.PBX_RESTART),
    ]  # once: the second request changes nothing


def test_given_a_channel_hung_up_by_hand_then_no_call_is_ended_for_the_pbx() -> None:
    pbx, events = adapter(FakeAri())
    pbx.on_message(json.dumps({"type": "StasisStart", "channel": {"id": "c1"}, "args": ["inbound", "1"]}))
    events.clear()
    pbx.on_message(hangup_request("c1", 16, soft=None))  # DELETE /channels or the phone's own hangup
    assert not [e for e in events if isinstance(e, ev.CallGone)]


class StaleAri(FakeAri):
    """The first ``info`` goes out on a connection kept alive to a process that is gone."""

    def __init__(self) -> None:
        super().__init__()
        self.stale, self.forgotten = True, 0

    async def info(self, status_only: bool = False) -> Any:
        if self.stale:
            raise AriUnavailable("http://127.0.0.1:1", "Server disconnected")
        return await super().info(status_only)

    async def forget_connections(self) -> None:
        self.forgotten += 1
        self.stale = False


async def test_given_a_stale_connection_when_reconnecting_then_it_is_dropped_and_asked_again() -> None:
    ari = StaleAri()
    pbx, events = adapter(ari)
    pbx.adopt({"c1"}, pbx_clock(BOOT) - 5)  # Asterisk started after the books' last event
    await pbx._reconcile()
    assert ari.forgotten == 2  # once for the stale connection, once more since Asterisk is a new process
    assert [e.reason for e in events if isinstance(e, ev.CallGone)] == [EndReason.PBX_RESTART]


@pytest.mark.parametrize(
    ("cdr", "dated"),
    [
        ("1796418630.250000", 1796418630.25),  # when the phone was picked up, while nobody watched
        ("0.000000", None),  # Asterisk does not know: as found
        ("later", None),
        ("1796418700.000000", None),  # after now: another clock than ours, not to be trusted
    ],
)
async def test_given_a_leg_answered_while_we_were_away_then_its_answer_is_dated_by_asterisk(
    cdr: str, dated: float | None
) -> None:
    ari = FakeAri()
    pbx, events = adapter(ari)
    pbx.adopt({"c1", "sb-c1-1"}, pbx_clock(LATER))
    agent_leg = {"app_name": "Stasis", "app_data": "sb,agent,c1,a1"}
    ari.listed = [
        {"id": "c1", "state": "Up", "dialplan": {"app_name": "Stasis", "app_data": "sb,inbound,18005550101"}},
        {"id": "sb-c1-1", "state": "Up", "dialplan": agent_leg},
    ]
    ari.answered = {"sb-c1-1": cdr}
    await pbx._reconcile()
    now = pbx_clock(LATER) + 60
    assert events == [ev.OfferAnswered(OfferId("sb-c1-1"), now if dated is None else dated)]


class BridgedAri(FakeAri):
    """Also lists one empty bridge of ours, and writes each destruction to ``steps``."""

    def __init__(self, steps: list[str]) -> None:
        super().__init__()
        self.steps = steps

    async def bridges(self) -> list[Any]:
        return [{"id": "sb-bridge-c0", "name": "sb", "channels": []}]

    async def destroy_bridge(self, bridge_id: str) -> None:
        self.steps.append(f"destroy {bridge_id}")


async def test_given_an_empty_bridge_then_it_goes_before_any_event_reaches_the_router() -> None:
    """An answer the reconcile finds has the router bridge the call at once: a cleanup after the events
    destroyed that new bridge while it was still empty, and the call ended as a failed bridge."""
    steps: list[str] = []
    ari = BridgedAri(steps)
    pbx = AriPbx(ari, lambda e: steps.append(type(e).__name__), lambda: pbx_clock(LATER), NORMALISE)
    pbx.adopt({"c1"}, pbx_clock(LATER))  # the books' call c1, gone from Asterisk: an event for the router
    await pbx._reconcile()
    assert steps == ["destroy sb-bridge-c0", "CallGone"]
