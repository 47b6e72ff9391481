"""The ACD's PBX commands carried out by ``AriPbx`` on the real Asterisk sandbox.

No router here: each test drives the adapter with the commands the router would send and watches the
ARI events and the domain events that come back. Callers are Local channels into switchboard-inbound
(the ``;2`` half enters our app); agents are the simulated phones of switchboard-agents, and callback
customers the ones of switchboard-outbound (answer after 300 ms, stay on the line).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from crm_core.domain.phones import to_e164
from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, BridgeId, CallId, OfferId, callback_id, recording_name
from telephony.ari_client import AriClient
from telephony.errors import TelephonyError
from telephony.pbx import AriPbx
from tests.integration.conftest import ARI_PASSWORD, ARI_URL, ARI_USER, ari_reachable, phone, wait_until

pytestmark = pytest.mark.asterisk

CALLER = "+14155550123"
RECORD_TO = os.environ.get("SWITCHBOARD_RECORD_ARI")  # a directory: each test's raw ARI messages go there


class WatchedPbx(AriPbx):
    """The real adapter, with every raw ARI message and every domain event kept for the test to read."""

    def __init__(self, client: AriClient) -> None:
        self.events: list[ev.Event] = []
        self.raw: list[dict[str, Any]] = []
        normalise = functools.partial(to_e164, region="US")
        super().__init__(client, self.events.append, asyncio.get_running_loop().time, normalise)

    def on_message(self, raw: str | bytes) -> None:
        with contextlib.suppress(ValueError):
            self.raw.append(json.loads(raw))
        super().on_message(raw)

    def seen(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [m for m in self.raw if m.get("type") == kind and _matches(m, match)]

    def got(self, event: ev.Event) -> bool:
        """Whether an event like ``event`` came, whatever its time."""
        fields = [f for f in event.__dataclass_fields__ if f != "at"]
        return any(
            type(e) is type(event) and all(getattr(e, f) == getattr(event, f) for f in fields)
            for e in self.events
        )


def _matches(message: dict[str, Any], match: dict[str, Any]) -> bool:
    for path, want in match.items():
        value: Any = message
        for key in path.split("__"):
            value = value.get(key) if isinstance(value, dict) else None
        if value != want:
            return False
    return True


class Phone:
    """One test's app on the sandbox: the adapter under test and a client to place and end calls."""

    def __init__(self, pbx: WatchedPbx, ari: AriClient) -> None:
        self.pbx, self.ari = pbx, ari
        self.placed: list[str] = []

    async def call(self, did: str = "18005550101", keypad: bool = False) -> CallId:
        """A caller; with ``keypad`` the caller's own half is parked in our app too (args ``keypad``),
        because ARI sends DTMF only from a channel in Stasis: its keys reach the ``;2`` half."""
        channel = f"test-{uuid.uuid4().hex[:12]}"
        params = {"endpoint": f"Local/{did}@switchboard-inbound/n", "callerId": CALLER, "channelId": channel}
        if keypad:
            params |= {"app": self.ari.app, "appArgs": "keypad"}
        else:
            params |= {"context": "switchboard-caller", "extension": "s", "priority": "1"}
        await self.ari.request("POST", "/channels", params, {"variables": {"_SB_APP": self.ari.app}})
        self.placed.append(channel)
        call = CallId(f"{channel};2")
        await wait_until(
            lambda: any(isinstance(e, ev.CallArrived) and e.call == call for e in self.pbx.events)
        )
        return call

    async def run(self, *commands: cmd.PbxCommand) -> None:
        for command in commands:
            self.pbx.execute(command)
        await self.pbx.idle()

    async def channels(self) -> set[str]:
        return {c["id"] for c in await self.ari.channels()}

    async def gone(self, channel: str) -> None:
        for _ in range(250):
            if channel not in await self.channels():
                return
            await asyncio.sleep(0.04)
        raise AssertionError(f"channel {channel} still up")


@pytest.fixture
async def on_the_phone(request: pytest.FixtureRequest) -> AsyncIterator[Phone]:
    probe = await ari_reachable()
    await probe.close()
    ari = AriClient(ARI_URL, ARI_USER, ARI_PASSWORD, f"sbtest-{uuid.uuid4().hex[:8]}")
    pbx = WatchedPbx(ari)
    reader = asyncio.create_task(pbx.run())
    await asyncio.wait_for(pbx.connected.wait(), 10)
    box = Phone(pbx, ari)
    yield box
    leftovers = [*box.placed, *(c for c in pbx._live if c.startswith("sb-"))]
    for channel in leftovers:  # leave nothing ringing or parked in the shared sandbox
        with contextlib.suppress(TelephonyError):
            await ari.hangup(channel)
    await asyncio.sleep(0.3)  # the hangups' events, for a recording
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    await ari.close()
    if RECORD_TO:  # refresh tests/telephony/recorded/ from a real run
        path = Path(RECORD_TO) / f"{request.node.name.removeprefix('test_given_')[:40]}.json"
        path.write_text(json.dumps([m for m in pbx.raw if m.get("type") != "ChannelVarset"], indent=1))


async def test_given_a_waiting_caller_when_the_position_is_announced_then_it_plays_and_music_resumes(
    on_the_phone: Phone,
) -> None:
    box = on_the_phone
    call = await box.call()
    await box.run(cmd.AnswerCall(call), cmd.AnnouncePosition(call, 3, 130.0))
    media = ["sound:queue-thereare", "number:3", "sound:queue-callswaiting",
             "sound:queue-holdtime", "number:2", "sound:queue-minutes"]  # fmt: skip
    started = box.pbx.seen("PlaybackStarted", playback__target_uri=f"channel:{call}")
    assert [m["playback"]["media_uri"] for m in started] == media
    assert box.pbx.seen("PlaybackFinished", playback__target_uri=f"channel:{call}")
    # The caller is back on hold music, still in our app.
    channel = await box.ari.request("GET", f"/channels/{call.replace(';', '%3B')}")
    assert channel["state"] == "Up"
    assert call in box.pbx._live and box.pbx.media.playing(call) is None


async def test_given_a_waiting_caller_when_offered_a_callback_and_presses_1_then_callback_requested(
    on_the_phone: Phone,
) -> None:
    box = on_the_phone
    call = await box.call(keypad=True)
    await box.run(cmd.AnswerCall(call), cmd.OfferCallbackChoice(call))
    # One playback for the whole list: a PlaybackStarted per sound, one PlaybackFinished (on the last).
    assert box.pbx.seen("PlaybackStarted", playback__media_uri="sound:vm-tocallback")
    assert box.pbx.seen("PlaybackFinished", playback__media_uri="sound:digits/1")
    # The caller's own phone is the Local channel's other half: a key pressed there reaches our ;2 half.
    keypad = call.removesuffix(";2")
    await wait_until(lambda: keypad in box.pbx._live, what="the caller's keypad in the app")
    await box.ari.send_dtmf(keypad, "1")
    await wait_until(lambda: box.pbx.got(ev.CallbackRequested(call, 0.0)), what="CallbackRequested")


async def test_given_a_waiting_caller_when_a_message_is_taken_then_intro_then_a_recording_is_stored(
    on_the_phone: Phone,
) -> None:
    box = on_the_phone
    call = await box.call()
    name = recording_name(call)  # holds the ";2" of the Local channel: must work as a file name too
    await box.run(cmd.AnswerCall(call), cmd.TakeMessage(call, name, 5))
    assert box.pbx.seen("PlaybackFinished", playback__media_uri="sound:vm-intro")
    await wait_until(lambda: box.pbx.seen("RecordingStarted", recording__name=name), what="RecordingStarted")
    await asyncio.sleep(1)
    await box.ari.hangup(call.removesuffix(";2"))  # the caller hangs up: that ends the message
    await wait_until(
        lambda: box.pbx.seen("RecordingFinished", recording__name=name), what="RecordingFinished"
    )
    stored = await box.ari.request("GET", f"/recordings/stored/{name}")
    assert stored["format"] == "wav"
    await box.ari.request("DELETE", f"/recordings/stored/{name}")


async def test_given_a_caller_already_gone_when_ended_with_a_farewell_then_no_error_and_all_hung_up(
    on_the_phone: Phone,
) -> None:
    box = on_the_phone
    call = await box.call()
    await box.run(cmd.AnswerCall(call))
    await box.run(cmd.EndCall(call, (call,), None, "closed"))
    assert box.pbx.seen("PlaybackStarted", playback__media_uri="sound:im-sorry")
    await box.gone(call)
    gone = await box.call()
    await box.ari.hangup(gone.removesuffix(";2"))
    await box.gone(gone)
    await box.run(cmd.EndCall(gone, (gone,), BridgeId("sb-bridge-none"), "goodbye"))  # must not raise


async def test_given_an_agent_on_a_callback_when_the_customer_is_dialed_then_answered_and_bridged(
    on_the_phone: Phone,
) -> None:
    box = on_the_phone
    call = callback_id(CallId(f"orig-{uuid.uuid4().hex[:8]}"))
    offer = OfferId(f"sb-{call}-1")
    await box.run(
        cmd.OfferCall(
            offer=offer,
            call=call,
            agent=AgentId("alice"),
            endpoint=phone("101"),
            timeout_s=10,
            caller_number=CALLER,
        )
    )
    await wait_until(lambda: box.pbx.got(ev.OfferAnswered(offer, 0.0)), what="agent answers")
    await box.run(cmd.DialCustomer(call, offer, CALLER, 10))
    await wait_until(lambda: box.pbx.got(ev.CustomerAnswered(call, 0.0)), what="customer answers")
    assert box.pbx.seen("StasisStart", channel__id=call)
    await box.run(cmd.BridgeCall(call, offer, BridgeId(f"sb-bridge-{call}")))
    bridge = await box.ari.request("GET", f"/bridges/sb-bridge-{call}")
    assert set(bridge["channels"]) == {call, offer}
    await box.ari.hangup(call)
    await wait_until(lambda: box.pbx.got(ev.CallerHungUp(call, 0.0)), what="customer's hangup")
    await box.run(cmd.EndCall(call, (offer,), BridgeId(f"sb-bridge-{call}")))
    await box.gone(offer)


async def test_given_an_after_hours_call_when_the_on_call_number_is_offered_then_it_rings_and_answers(
    on_the_phone: Phone,
) -> None:
    box = on_the_phone
    call = await box.call()
    offer = OfferId(f"sb-{call}-1")
    await box.run(
        cmd.AnswerCall(call),
        cmd.OfferCall(
            offer=offer, call=call, agent=None, endpoint=phone("102"), timeout_s=10, caller_number=CALLER
        ),
    )
    await wait_until(lambda: box.pbx.got(ev.OfferAnswered(offer, 0.0)), what="on-call person answers")
    assert box.pbx.seen("StasisStart", channel__id=offer, args=["agent", call, ""])
    await box.run(cmd.BridgeCall(call, offer, BridgeId(f"sb-bridge-{call}")))
    assert not [e for e in box.pbx.events if isinstance(e, ev.OfferFailed | ev.BridgeFailed)]


async def test_given_two_phones_rung_for_one_call_when_one_answers_then_the_other_is_cancelled(
    on_the_phone: Phone,
) -> None:
    box = on_the_phone
    call = await box.call()
    winner, loser = OfferId(f"sb-{call}-1"), OfferId(f"sb-{call}-2")
    box.pbx.execute(cmd.AnswerCall(call))
    for offer, agent, extension in ((winner, "alice", "103"), (loser, "bob", "203")):
        box.pbx.execute(
            cmd.OfferCall(
                offer=offer,
                call=call,
                agent=AgentId(agent),
                endpoint=phone(extension),
                timeout_s=10,
                caller_number=CALLER,
            )
        )
    await wait_until(lambda: box.pbx.got(ev.OfferRinging(loser, 0.0)), what="both phones ring")
    await wait_until(lambda: box.pbx.got(ev.OfferAnswered(winner, 0.0)), what="one answers")
    await asyncio.wait_for(
        box.run(cmd.CancelOffer(loser, call), cmd.BridgeCall(call, winner, BridgeId(f"sb-bridge-{call}"))), 10
    )
    await box.gone(loser)
    await wait_until(lambda: box.pbx.got(ev.OfferEnded(loser, 0.0)), what="the loser's offer ends")
    bridge = await box.ari.request("GET", f"/bridges/sb-bridge-{call}")
    assert set(bridge["channels"]) == {call, winner}
