"""``SimulatedPbx``: the router's commands in, the simulated callers' and phones' events out.

Delays are a few milliseconds; each test then sleeps past the last one. The loop fires timers in the
order they are due, so what the test sees does not depend on how busy the machine is.
"""

from __future__ import annotations

import asyncio

from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, BridgeId, CallId, OfferId
from telephony.pbx import Pbx
from telephony.simulated import SimulatedPbx, Timing

CALL, OFFER = CallId("c1"), OfferId("sb-c1-1")
FAST = Timing(ring_after_s=0.001, answer_after_s=0.002, hang_up_after_s=0.004)
PAST_IT_ALL_S = 0.05


class Stamps:
    """The clock: each reading one second later, so events show the order they were stamped in."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def simulated(timing: Timing = FAST) -> tuple[SimulatedPbx, list[ev.Event]]:
    events: list[ev.Event] = []
    return SimulatedPbx(events.append, Stamps(), timing), events


def offer(call: CallId = CALL, leg: OfferId = OFFER) -> cmd.OfferCall:
    return cmd.OfferCall(
        offer=leg,
        call=call,
        agent=AgentId("a1"),
        endpoint="Local/a1",
        timeout_s=15,
        caller_number="+14155550123",
    )


async def test_given_an_offer_then_the_phone_rings_is_answered_and_the_caller_hangs_up() -> None:
    pbx, events = simulated()
    pbx.execute(offer())
    await asyncio.sleep(PAST_IT_ALL_S)
    assert events == [ev.OfferRinging(OFFER, 1.0), ev.OfferAnswered(OFFER, 2.0), ev.CallerHungUp(CALL, 3.0)]
    assert pbx.offers == 1


async def test_given_a_ringing_phone_when_the_offer_is_cancelled_then_it_ends_and_is_never_answered() -> None:
    pbx, events = simulated(Timing(ring_after_s=0.0, answer_after_s=0.01, hang_up_after_s=0.02))
    pbx.execute(offer())
    await asyncio.sleep(0.001)
    pbx.execute(cmd.CancelOffer(OFFER, CALL))
    await asyncio.sleep(PAST_IT_ALL_S)
    assert [type(e) for e in events] == [ev.OfferRinging, ev.OfferEnded, ev.CallerHungUp]


async def test_given_a_call_the_router_ends_then_neither_its_caller_nor_its_phones_act_later() -> None:
    pbx, events = simulated()
    pbx.execute(offer())
    pbx.execute(cmd.EndCall(CALL, (CALL, OFFER), BridgeId("sb-bridge-c1")))
    await asyncio.sleep(PAST_IT_ALL_S)
    assert events == []


async def test_given_a_rejected_call_then_its_caller_does_not_hang_up_later() -> None:
    pbx, events = simulated()
    pbx.execute(offer())
    pbx.execute(cmd.RejectCall(CALL, "closed"))
    await asyncio.sleep(PAST_IT_ALL_S)
    assert [type(e) for e in events] == [ev.OfferRinging, ev.OfferAnswered]


async def test_given_nobody_answers_and_a_patient_caller_then_the_phone_only_rings() -> None:
    pbx, events = simulated(Timing(ring_after_s=0.001, answer_after_s=None, hang_up_after_s=None))
    pbx.execute(offer())
    await asyncio.sleep(PAST_IT_ALL_S)
    assert events == [ev.OfferRinging(OFFER, 1.0)]


async def test_given_a_call_offered_twice_then_its_caller_hangs_up_once() -> None:
    pbx, events = simulated()
    pbx.execute(offer())
    pbx.execute(offer(leg=OfferId("sb-c1-2")))
    await asyncio.sleep(PAST_IT_ALL_S)
    assert [type(e) for e in events].count(ev.CallerHungUp) == 1
    assert pbx.offers == 2


async def test_given_an_on_call_person_prompted_then_they_press_1_after_the_answer_time() -> None:
    pbx, events = simulated()
    pbx.execute(cmd.PromptOnCall(OFFER, CALL, "+18005550101", "+14155550123"))
    await asyncio.sleep(PAST_IT_ALL_S)
    assert events == [ev.LegKeyPressed(OFFER, "1", 1.0)]


async def test_given_nobody_answers_then_a_prompted_person_presses_nothing_either() -> None:
    pbx, events = simulated(Timing(ring_after_s=0.001, answer_after_s=None, hang_up_after_s=None))
    pbx.execute(cmd.PromptOnCall(OFFER, CALL, "+18005550101", None))
    await asyncio.sleep(PAST_IT_ALL_S)
    assert events == []


async def test_given_a_caller_dialing_in_then_the_call_arrives_at_once() -> None:
    pbx, events = simulated()
    pbx.arrive(CALL, "+18005550101", "+14155550123")
    assert events == [ev.CallArrived(CALL, "+18005550101", "+14155550123", None, 1.0)]


async def test_given_commands_without_an_outcome_then_no_events_and_idle_at_once() -> None:
    pbx, events = simulated()
    for command in (
        cmd.AnswerCall(CALL),
        cmd.HoldCall(CALL, BridgeId("b")),
        cmd.AnnouncePosition(CALL, 1, 0),
    ):
        pbx.execute(command)
    await asyncio.wait_for(pbx.idle(), 1)
    await asyncio.sleep(PAST_IT_ALL_S)
    assert events == []


async def test_given_it_runs_then_connected_until_stopped_and_then_the_phones_go_quiet() -> None:
    pbx, events = simulated()
    port: Pbx = pbx
    running = asyncio.create_task(port.run())
    await asyncio.wait_for(port.connected.wait(), 1)
    pbx.execute(offer())
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await asyncio.sleep(PAST_IT_ALL_S)
    assert not port.connected.is_set()
    assert events == []
