"""The floor app of ``bench/sip_latency.py --floor`` (bench/_ari_floor_app.py): its decisions on ARI events
as Asterisk sends them, through a recording transport, and where its calls' time goes
(bench/_sip_breakdown.py) on a trace as the app writes it (no Asterisk, no SIPp)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _ari_floor_app import Floor, Reply, Trace
from _sip_breakdown import breakdown
from _sip_figures import CallTimes

PHONES = ["sip-bench-1", "sip-bench-2"]
CALLER = {"id": "1796357100.7", "caller": {"number": "+14155550000"}}


class RecordingTransport:
    """Answers every request 200 and keeps it, as (method, path, params)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    async def request(self, method: str, path: str, params: dict[str, str]) -> Reply:
        self.sent.append((method, path, params))
        return 200, None


def stasis_start(channel: dict[str, Any], *args: str) -> dict[str, Any]:
    return {"type": "StasisStart", "channel": channel, "args": list(args)}


async def settled(floor: Floor) -> None:
    while floor.tasks:
        await asyncio.gather(*list(floor.tasks))


async def test_given_legs_made_ahead_when_a_caller_enters_then_one_dial_rings_the_phone_idle_longest() -> (
    None
):
    sent = RecordingTransport()
    floor = Floor("floorapp", PHONES, "ahead", sent, Trace())
    for phone in PHONES:
        floor.free(phone)
    await settled(floor)
    assert [p["channelId"] for _, path, p in sent.sent if path == "channels/create"] == [
        "floorapp-sip-bench-1-1", "floorapp-sip-bench-2-2",
    ]  # fmt: skip
    for n, phone in enumerate(PHONES, 1):
        floor.handle(stasis_start({"id": f"floorapp-{phone}-{n}"}, "ahead", phone))
    assert floor.all_idle.is_set()
    sent.sent.clear()

    floor.handle(stasis_start(CALLER, "inbound", "18005550101"))
    await settled(floor)
    leg = "floorapp-sip-bench-1-1"
    assert sent.sent == [("POST", f"channels/{leg}/dial", {"caller": CALLER["id"], "timeout": "15"})]
    assert list(floor.idle) == ["sip-bench-2"]


async def test_given_a_ringing_leg_when_answered_then_hung_up_then_bridged_then_torn_down_and_made() -> None:
    sent = RecordingTransport()
    floor = Floor("floorapp", PHONES[:1], "ahead", sent, Trace())
    floor.handle(stasis_start({"id": "L1"}, "ahead", "sip-bench-1"))
    floor.handle(stasis_start(CALLER, "inbound", "18005550101"))
    await settled(floor)
    sent.sent.clear()

    floor.handle({"type": "Dial", "peer": {"id": "L1"}, "dialstatus": "ANSWER"})
    await settled(floor)
    caller, bridge = CALLER["id"], f"fl-{CALLER['id']}"
    assert sorted(path for _, path, _ in sent.sent) == [
        "bridges", f"bridges/{bridge}/addChannel", f"channels/{caller}/answer",
    ]  # fmt: skip
    assert sent.sent[-1][2] == {"channel": f"{caller},L1"}
    assert floor.counts.bridged == 1
    sent.sent.clear()

    floor.handle({"type": "StasisEnd", "channel": {"id": "L1"}})
    await settled(floor)
    assert sorted((m, path) for m, path, _ in sent.sent) == [
        ("DELETE", f"bridges/{bridge}"), ("DELETE", f"channels/{caller}"), ("POST", "channels/create"),
    ]  # fmt: skip
    assert [p["appArgs"] for _, path, p in sent.sent if path == "channels/create"] == ["ahead,sip-bench-1"]


async def test_given_create_then_dial_then_the_dial_waits_for_the_leg_to_enter_the_app() -> None:
    sent = RecordingTransport()
    floor = Floor("floorapp", PHONES[:1], "create-dial", sent, Trace())
    floor.free("sip-bench-1")
    floor.handle(stasis_start(CALLER, "inbound", "18005550101"))
    await asyncio.sleep(0.01)
    assert [path for _, path, _ in sent.sent] == ["channels/create"]
    leg = sent.sent[0][2]["channelId"]
    assert sent.sent[0][2]["originator"] == CALLER["id"]

    floor.handle(stasis_start({"id": leg}, "leg"))
    await settled(floor)
    assert [path for _, path, _ in sent.sent] == ["channels/create", f"channels/{leg}/dial"]


async def test_given_a_busy_phone_then_the_caller_goes_to_the_next_one() -> None:
    sent = RecordingTransport()
    floor = Floor("floorapp", PHONES, "originate", sent, Trace())
    for phone in PHONES:
        floor.free(phone)
    floor.handle(stasis_start(CALLER, "inbound", "18005550101"))
    await settled(floor)
    first = sent.sent[0][2]
    assert (first["endpoint"], first["callerId"]) == ("PJSIP/sip-bench-1", "+14155550000")

    floor.handle({"type": "Dial", "peer": {"id": first["channelId"]}, "dialstatus": "BUSY"})
    await settled(floor)
    assert [p["endpoint"] for _, _, p in sent.sent] == ["PJSIP/sip-bench-1", "PJSIP/sip-bench-2"]
    assert floor.counts.failed == 1 and list(floor.idle) == ["sip-bench-1"]


INVITE = 1796357100.0  # 2026-12-04 04:05:00 UTC
# As the app writes its trace for one call of an ``ahead`` run: the leg was made and entered the app ten
# seconds before the call.
AHEAD_TRACE = """\
1796357090.000000\trequest\tPOST /channels/create\tL\t
1796357090.002000\trecv\tStasisStart\tL\t2026-12-04T04:04:50.001+0000
1796357100.002500\trecv\tStasisStart\tC\t2026-12-04T04:05:00.002+0000
1796357100.002600\tcommand\tOfferCall\tC L\t
1796357100.002700\tparsed\tStasisStart\tC\t
1796357100.002800\trequest\tPOST /channels/L/dial\t\t
1796357100.003500\trecv\tDial:\tL\t2026-12-04T04:05:00.003+0000
1796357100.003900\treply\tPOST /channels/L/dial\t\t
1796357100.004900\trecv\tDial:RINGING\tL\t2026-12-04T04:05:00.004+0000
"""
# An originated leg enters the app when its phone answers, 300 ms after it rang.
ORIGINATE_TRACE = """\
1796357100.002500\trecv\tStasisStart\tC\t2026-12-04T04:05:00.002+0000
1796357100.002600\tcommand\tOfferCall\tC fl-C-1\t
1796357100.002800\trequest\tPOST /channels\tfl-C-1\t
1796357100.003500\trecv\tDial:\tfl-C-1\t2026-12-04T04:05:00.003+0000
1796357100.305000\trecv\tStasisStart\tfl-C-1\t2026-12-04T04:05:00.304+0000
"""


def steps_of(tmp_path: Path, trace: str) -> dict[str, tuple[float, float]]:
    path = tmp_path / "trace.tsv"
    path.write_text(trace)
    call = CallTimes("+14155550000", INVITE, ring=INVITE + 0.0036)
    lines = breakdown(path, [call], {"+14155550000": "C"})
    assert lines[0].startswith("  where the time goes") and "(1 calls;" in lines[0]
    # label, then "p50 / p99" after the INVITE: one call, so both the same
    return {line[4:54].strip(): (float(line[55:61]), float(line[64:70])) for line in lines[1:]}


def test_given_a_leg_made_ahead_then_its_creation_is_no_step_of_the_call(tmp_path: Path) -> None:
    steps = steps_of(tmp_path, AHEAD_TRACE)
    assert list(steps) == [
        "caller's INVITE sent (SIPp)",
        "caller in Stasis (Asterisk stamp)",
        "StasisStart read from the websocket",
        "StasisStart decoded, events queued",
        "OfferCall reaches the PBX adapter",
        "POST /dial sent",
        "leg dialled (Asterisk's Dial stamp)",
        "dial answered",
        "phone's INVITE received (SIPp)",
        "leg ringing (Asterisk stamp)",
        "ringing read from the websocket",
    ]
    assert steps["POST /dial sent"][0] == pytest.approx(2.8)
    assert steps["leg dialled (Asterisk's Dial stamp)"][0] == pytest.approx(3.0)
    assert steps["ringing read from the websocket"][0] == pytest.approx(4.9)


def test_given_an_originated_leg_then_its_entry_at_the_answer_is_no_step_of_ringing(tmp_path: Path) -> None:
    steps = steps_of(tmp_path, ORIGINATE_TRACE)
    assert "leg's StasisStart read from the websocket" not in steps
    assert steps["POST /channels (originate) sent"][0] == pytest.approx(2.8)
    assert steps["leg dialled (Asterisk's Dial stamp)"][0] == pytest.approx(3.0)
