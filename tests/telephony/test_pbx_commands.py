"""``AriPbx`` carrying out the ACD's commands against a hand-written ARI that records the REST calls.

The same commands against the real Asterisk: tests/integration/test_acd_on_the_phone.py."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import pytest

from crm_core.domain.phones import to_e164
from routing import commands as cmd
from routing import events as ev
from routing.events import SupervisionMode as Mode
from routing.ids import AgentId, BridgeId, CallId, OfferId, SupervisorLegId
from telephony.ari_client import AriClient
from telephony.errors import AriRequestError
from telephony.pbx import AriPbx

CALL = CallId("c1")
NORMALISE = functools.partial(to_e164, region="US")


class RecordingAri(AriClient):
    """Answers every request with success, except the paths listed in ``gone`` (404, as for a hung-up
    channel); PlaybackFinished is sent back at once through the adapter, as Asterisk would."""

    def __init__(self, gone: frozenset[str] = frozenset()) -> None:
        super().__init__("http://127.0.0.1:1", "u", "p", "app")
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.gone = gone
        self.pbx: AriPbx | None = None

    async def request(
        self, method: str, path: str, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Any:
        self.calls.append((method, path, dict(params or {})))
        if any(path.startswith(g) for g in self.gone):
            raise AriRequestError(method, path, 404, '{"message":"Channel not found"}')
        if path == "/channels/create" and self.pbx is not None:  # the new leg enters the app
            leg = {"id": (params or {})["channelId"]}
            self.pbx.on_message(json.dumps({"type": "StasisStart", "args": ["agent"], "channel": leg}))
        if "/play/" in path and self.pbx is not None:
            playback = path.rsplit("/", 1)[1]
            self.pbx.on_message(json.dumps({"type": "PlaybackFinished", "playback": {"id": playback}}))
        return None


def pbx_with(ari: RecordingAri) -> tuple[AriPbx, list[ev.Event]]:
    events: list[ev.Event] = []
    pbx = AriPbx(ari, events.append, lambda: 7.0, NORMALISE, outbound_endpoint="PJSIP/{number}@trunk")
    ari.pbx = pbx
    pbx.on_message(json.dumps({"type": "StasisStart", "args": ["inbound", "1"], "channel": {"id": CALL}}))
    events.clear()
    return pbx, events


def steps(ari: RecordingAri) -> list[tuple[str, str]]:
    return [
        (method, path.split("/")[-1] if "/play/" not in path else "play") for method, path, _ in ari.calls
    ]


async def test_given_a_waiting_caller_when_the_position_is_announced_then_music_stops_plays_resumes() -> None:
    ari = RecordingAri()
    pbx, _ = pbx_with(ari)
    pbx.execute(cmd.AnnouncePosition(CALL, 2, 30.0))
    await pbx.idle()
    assert steps(ari) == [("DELETE", "moh"), ("POST", "play"), ("POST", "moh")]
    assert ari.calls[1][2]["media"] == "sound:queue-thereare,number:2,sound:queue-callswaiting"


async def test_given_a_bridged_caller_when_an_announcement_comes_late_then_nothing_plays() -> None:
    ari = RecordingAri()
    pbx, _ = pbx_with(ari)
    pbx.execute(cmd.BridgeCall(CALL, OfferId("sb-c1-1"), BridgeId("sb-bridge-c1")))
    pbx.execute(cmd.OfferCallbackChoice(CALL))
    await pbx.idle()
    assert "play" not in [s for _, s in steps(ari)]


async def test_given_a_caller_already_gone_when_ended_with_a_farewell_then_no_error_and_clean_up() -> None:
    ari = RecordingAri(gone=frozenset({"/channels/c1"}))
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.EndCall(CALL, (CALL,), BridgeId("sb-bridge-c1"), "closed"))
    await pbx.idle()
    assert ("DELETE", "/channels/c1", {"reason": "normal"}) in ari.calls
    assert ari.calls[-1][:2] == ("DELETE", "/bridges/sb-bridge-c1")
    assert events == []


async def test_given_a_waiting_caller_when_a_message_is_taken_then_intro_then_record() -> None:
    ari = RecordingAri()
    pbx, _ = pbx_with(ari)
    pbx.execute(cmd.TakeMessage(CALL, "sb-vm-c1", 120.0))
    await pbx.idle()
    method, path, params = ari.calls[-1]
    assert (method, path) == ("POST", "/channels/c1/record")
    assert params == {"name": "sb-vm-c1", "format": "wav", "maxDurationSeconds": "120", "beep": "true",
                      "terminateOn": "#", "ifExists": "overwrite"}  # fmt: skip
    assert any(p.get("media") == "sound:vm-intro" for _, _, p in ari.calls)


async def test_given_an_unreachable_customer_when_dialed_then_the_callback_call_hangs_up() -> None:
    ari = RecordingAri(gone=frozenset({"/channels/create"}))
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.DialCustomer(CallId("sb-cb-c1"), OfferId("sb-sb-cb-c1-1"), "+14155550123", 30))
    await pbx.idle()
    created = next(p for _, path, p in ari.calls if path == "/channels/create")
    assert (created["endpoint"], created["channelId"]) == ("PJSIP/+14155550123@trunk", "sb-cb-c1")
    assert events == [ev.CallerHungUp(CallId("sb-cb-c1"), 7.0)]


async def test_given_an_on_call_offer_when_it_cannot_be_created_then_offer_failed() -> None:
    ari = RecordingAri(gone=frozenset({"/channels/create"}))
    pbx, events = pbx_with(ari)
    pbx.execute(
        cmd.OfferCall(
            offer=OfferId("sb-c1-1"),
            call=CALL,
            agent=None,
            endpoint="PJSIP/oncall",
            timeout_s=20,
            caller_number=None,
        )
    )
    pbx.execute(
        cmd.OfferCall(
            offer=OfferId("sb-c1-2"),
            call=CALL,
            agent=AgentId("a"),
            endpoint="PJSIP/a",
            timeout_s=20,
            caller_number=None,
        )
    )
    await pbx.idle()
    assert [type(e).__name__ for e in events] == ["OfferFailed", "OfferFailed"]
    assert [p["appArgs"] for _, path, p in ari.calls if path == "/channels/create"] == [
        "agent,c1,",
        "agent,c1,a",
    ]


def offer(leg: str, agent: str = "a") -> cmd.OfferCall:
    return cmd.OfferCall(
        offer=OfferId(leg), call=CALL, agent=AgentId(agent), endpoint=f"PJSIP/{agent}", timeout_s=20,
        caller_number=None,
    )  # fmt: skip


async def test_given_a_caller_with_nobody_free_when_carried_out_then_answered_and_on_music_at_once() -> None:
    ari = RecordingAri()
    pbx, _ = pbx_with(ari)
    pbx.execute(cmd.AnswerCall(CALL))
    await pbx.idle()
    assert steps(ari) == [("POST", "answer"), ("POST", "moh")]


async def test_given_the_offer_fails_when_carried_out_then_the_caller_is_answered_all_the_same() -> None:
    ari = RecordingAri(gone=frozenset({"/channels/create"}))
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.AnswerCall(CALL))
    pbx.execute(offer("sb-c1-1"))
    pbx.execute(offer("sb-c1-2", "b"))  # ring-all: both fail, the caller is answered once
    await pbx.idle()
    assert [s for s in steps(ari) if s[1] != "create"] == [("POST", "answer"), ("POST", "moh")]
    assert [type(e).__name__ for e in events] == ["OfferFailed", "OfferFailed"]


async def test_given_an_answer_after_the_caller_was_bridged_then_no_music_into_the_conversation() -> None:
    ari = RecordingAri()
    pbx, _ = pbx_with(ari)
    pbx.execute(cmd.BridgeCall(CALL, OfferId("sb-c1-1"), BridgeId("sb-bridge-c1")))
    await pbx.idle()
    ari.calls.clear()
    pbx.execute(cmd.AnswerCall(CALL))
    await pbx.idle()
    assert steps(ari) == [("POST", "answer")]


# --- call control ---------------------------------------------------------------------------------
BRIDGE = BridgeId("sb-bridge-c1")


async def test_given_a_bridged_caller_when_held_then_out_of_the_bridge_with_music() -> None:
    ari = RecordingAri()
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.HoldCall(CALL, BRIDGE))
    await pbx.idle()
    assert [(m, p) for m, p, _ in ari.calls] == [
        ("POST", "/bridges/sb-bridge-c1/removeChannel"),
        ("POST", "/channels/c1/moh"),
    ]
    assert ari.calls[0][2] == {"channel": "c1"}
    assert events == []


async def test_given_a_held_caller_when_resumed_then_music_stops_and_back_in_the_bridge() -> None:
    ari = RecordingAri()
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.HoldCall(CALL, BRIDGE))
    pbx.execute(cmd.ResumeCall(CALL, BRIDGE))
    await pbx.idle()
    assert [(m, p) for m, p, _ in ari.calls][2:] == [
        ("DELETE", "/channels/c1/moh"),
        ("POST", "/bridges/sb-bridge-c1/addChannel"),
    ]
    assert events == []


async def test_given_the_bridge_gone_when_resumed_then_bridge_failed() -> None:
    ari = RecordingAri(gone=frozenset({"/bridges/sb-bridge-c1/addChannel"}))
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.ResumeCall(CALL, BRIDGE))
    await pbx.idle()
    assert [type(e).__name__ for e in events] == ["BridgeFailed"]


async def test_given_a_transferred_caller_when_announced_then_the_prompt_plays_and_music_resumes() -> None:
    """Bridged once (prompts stop), then let go by the agent (HoldCall): waiting again, prompts play."""
    ari = RecordingAri()
    pbx, _ = pbx_with(ari)
    pbx.execute(cmd.BridgeCall(CALL, OfferId("sb-c1-1"), BRIDGE))
    pbx.execute(cmd.HoldCall(CALL, BRIDGE))
    pbx.execute(cmd.DropLeg(CALL, OfferId("sb-c1-1"), BRIDGE))
    pbx.execute(cmd.AnnouncePosition(CALL, 1, 30.0))
    await pbx.idle()
    tail = [(m, p.split("/")[-1] if "/play/" not in p else "play") for m, p, _ in ari.calls][-7:]
    assert tail == [
        ("POST", "removeChannel"),
        ("POST", "moh"),
        ("DELETE", "sb-c1-1"),
        ("DELETE", "sb-bridge-c1"),
        ("DELETE", "moh"),
        ("POST", "play"),
        ("POST", "moh"),
    ]


async def test_given_a_transfer_to_a_number_then_dialed_through_the_outbound_endpoint_as_an_offer_leg() -> (
    None
):
    ari = RecordingAri()
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.DialNumber(OfferId("sb-c1-2"), CALL, "+15550001111", 30, "+14155550123"))
    await pbx.idle()
    (created,) = [p for _, path, p in ari.calls if path == "/channels/create"]
    assert created == {"endpoint": "PJSIP/+15550001111@trunk", "app": "app", "appArgs": "agent,c1,",
                       "channelId": "sb-c1-2", "originator": "c1"}  # fmt: skip
    assert ari.calls[-1] == ("POST", "/channels/sb-c1-2/dial", {"timeout": "30", "caller": "c1"})
    assert events == []


async def test_given_a_number_that_cannot_be_dialed_then_offer_failed() -> None:
    ari = RecordingAri(gone=frozenset({"/channels/create"}))
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.DialNumber(OfferId("sb-c1-2"), CALL, "+15550001111", 30, None))
    await pbx.idle()
    assert [(type(e).__name__, getattr(e, "offer", None)) for e in events] == [("OfferFailed", "sb-c1-2")]


class LingeringBridgeAri(RecordingAri):
    """Refuses to create a bridge ``refusals`` times (409), as Asterisk does just after destroying it."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    async def request(
        self, method: str, path: str, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Any:
        if (method, path) == ("POST", "/bridges/sb-bridge-c1") and self.refusals > 0:
            self.refusals -= 1
            self.calls.append((method, path, dict(params or {})))
            raise AriRequestError(method, path, 409, "Bridge with id 'sb-bridge-c1' already exists")
        return await super().request(method, path, params, body)


async def test_given_the_last_bridge_still_going_when_bridged_again_then_it_tries_until_it_is_gone() -> None:
    ari = LingeringBridgeAri(refusals=2)
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.DropLeg(CALL, OfferId("sb-c1-1"), BRIDGE))
    pbx.execute(cmd.BridgeCall(CALL, OfferId("sb-c1-3"), BRIDGE))
    await pbx.idle()
    assert [p for m, p, _ in ari.calls].count("/bridges/sb-bridge-c1") == 4  # destroy, 2 refused, created
    assert ari.calls[-1][:2] == ("POST", "/bridges/sb-bridge-c1/addChannel")
    assert events == []


async def test_given_a_bridge_that_never_goes_when_bridged_then_bridge_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("telephony.pbx.BRIDGE_RETRY_S", 0.0)
    ari = LingeringBridgeAri(refusals=1000)
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.BridgeCall(CALL, OfferId("sb-c1-3"), BRIDGE))
    await pbx.idle()
    assert [type(e).__name__ for e in events] == ["BridgeFailed"]


# --- supervisors ------------------------------------------------------------------------------------
SV = SupervisorLegId("sb-sv-c1-1")
SNOOP, SV_BRIDGE = "sb-snoop-c1-1", BridgeId("sb-svbridge-c1-1")


class SnoopingAri(RecordingAri):
    """Like Asterisk, a snoop channel enters the app as it is created (StasisStart, args ``snoop``)."""

    async def request(
        self, method: str, path: str, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Any:
        result = await super().request(method, path, params, body)
        if (
            path.endswith("/snoop")
            and self.pbx is not None
            and not any(path.startswith(g) for g in self.gone)
        ):
            leg = {"id": (params or {})["snoopId"]}
            self.pbx.on_message(json.dumps({"type": "StasisStart", "args": ["snoop"], "channel": leg}))
        return result


async def test_given_a_supervision_then_the_supervisors_phone_is_rung_like_an_agents() -> None:
    ari = RecordingAri()
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.RingSupervisor(SV, CALL, AgentId("boss"), "PJSIP/boss", 30))
    await pbx.idle()
    (created,) = [p for _, path, p in ari.calls if path == "/channels/create"]
    assert created == {"endpoint": "PJSIP/boss", "app": "app", "appArgs": "supervisor,c1",
                       "channelId": "sb-sv-c1-1", "originator": "c1"}  # fmt: skip
    assert ari.calls[-1] == ("POST", "/channels/sb-sv-c1-1/dial", {"timeout": "30"})
    assert events == []


async def test_given_a_supervisor_phone_that_cannot_be_rung_then_their_leg_ended() -> None:
    ari = RecordingAri(gone=frozenset({"/channels/create"}))
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.RingSupervisor(SV, CALL, AgentId("boss"), "PJSIP/boss", 30))
    await pbx.idle()
    assert events == [ev.SupervisorLegEnded(SV, 7.0)]


@pytest.mark.parametrize(("mode", "whisper"), [(Mode.LISTEN, "none"), (Mode.WHISPER, "out")])
async def test_given_listen_or_whisper_then_a_snoop_on_the_agent_leg_bridged_with_the_supervisor(
    mode: Mode, whisper: str
) -> None:
    ari = SnoopingAri()
    pbx, events = pbx_with(ari)
    pbx.execute(
        cmd.ConnectSupervisor(
            leg=SV, call=CALL, agent_leg=OfferId("sb-c1-1"), mode=mode, bridge=SV_BRIDGE, snoop=SNOOP
        )
    )
    await pbx.idle()
    assert ari.calls == [
        ("POST", "/channels/sb-c1-1/snoop",
         {"spy": "both", "whisper": whisper, "app": "app", "appArgs": "snoop", "snoopId": SNOOP}),
        ("POST", "/bridges/sb-svbridge-c1-1", {"type": "mixing", "name": "app"}),
        ("POST", "/bridges/sb-svbridge-c1-1/addChannel", {"channel": "sb-sv-c1-1,sb-snoop-c1-1"}),
    ]  # fmt: skip
    assert events == []


async def test_given_barge_then_the_supervisor_joins_the_calls_bridge_and_no_snoop() -> None:
    ari = RecordingAri()
    pbx, _ = pbx_with(ari)
    pbx.execute(
        cmd.ConnectSupervisor(
            leg=SV, call=CALL, agent_leg=OfferId("sb-c1-1"), mode=Mode.BARGE, bridge=BRIDGE, snoop=None
        )
    )
    await pbx.idle()
    assert ari.calls == [("POST", "/bridges/sb-bridge-c1/addChannel", {"channel": "sb-sv-c1-1"})]


async def test_given_the_agent_leg_gone_when_snooping_then_the_supervisor_leg_is_hung_up() -> None:
    ari = SnoopingAri(gone=frozenset({"/channels/sb-c1-1/snoop"}))
    pbx, events = pbx_with(ari)
    pbx.execute(
        cmd.ConnectSupervisor(
            leg=SV, call=CALL, agent_leg=OfferId("sb-c1-1"), mode=Mode.LISTEN, bridge=SV_BRIDGE, snoop=SNOOP
        )
    )
    await pbx.idle()
    assert [(m, p) for m, p, _ in ari.calls][1:] == [
        ("DELETE", "/channels/sb-snoop-c1-1"),
        ("DELETE", "/channels/sb-sv-c1-1"),
    ]
    assert events == []  # the leg's own end (StasisEnd) tells the router


async def test_given_a_snoop_that_never_enters_the_app_then_the_supervisor_leg_is_hung_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("telephony.pbx.LEG_ENTRY_TIMEOUT_S", 0.01)
    ari = RecordingAri()  # answers the snoop request but sends no StasisStart
    pbx, _ = pbx_with(ari)
    pbx.execute(
        cmd.ConnectSupervisor(
            leg=SV, call=CALL, agent_leg=OfferId("sb-c1-1"), mode=Mode.WHISPER, bridge=SV_BRIDGE, snoop=SNOOP
        )
    )
    await pbx.idle()
    assert ("DELETE", "/channels/sb-sv-c1-1") in [(m, p) for m, p, _ in ari.calls]


async def test_given_barge_when_the_calls_bridge_is_gone_then_the_supervisor_leg_is_hung_up() -> None:
    ari = RecordingAri(gone=frozenset({"/bridges/sb-bridge-c1/addChannel"}))
    pbx, _ = pbx_with(ari)
    pbx.execute(
        cmd.ConnectSupervisor(
            leg=SV, call=CALL, agent_leg=OfferId("sb-c1-1"), mode=Mode.BARGE, bridge=BRIDGE, snoop=None
        )
    )
    await pbx.idle()
    assert [(m, p) for m, p, _ in ari.calls][-1] == ("DELETE", "/channels/sb-sv-c1-1")


@pytest.mark.parametrize(
    ("snoop", "bridge", "expected"),
    [
        (SNOOP, SV_BRIDGE, [("DELETE", "/channels/sb-snoop-c1-1"), ("DELETE", "/channels/sb-sv-c1-1"),
                            ("DELETE", "/bridges/sb-svbridge-c1-1")]),
        (None, None, [("DELETE", "/channels/sb-sv-c1-1")]),
    ],
    ids=["listen-whisper", "barge"],
)  # fmt: skip
async def test_given_a_supervisor_dropped_then_their_legs_and_bridge_go_even_if_already_gone(
    snoop: str | None, bridge: BridgeId | None, expected: list[tuple[str, str]]
) -> None:
    ari = RecordingAri(gone=frozenset({"/channels/sb-sv-c1-1"}))  # the supervisor hung up themselves
    pbx, events = pbx_with(ari)
    pbx.execute(cmd.DropSupervisor(SV, CALL, snoop, bridge))
    await pbx.idle()
    assert [(m, p) for m, p, _ in ari.calls] == expected
    assert events == []
