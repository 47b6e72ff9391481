"""Supervisors on the real Asterisk sandbox: listen, whisper and barge on an agent's call from the
supervisor's own phone (snoop channels on the agent's leg), and moving waiting calls between queues.

The tests submit the router events through the service's own loop, as the console's websocket messages
(``supervise``, ``stop-supervising``, ``move-call``, ``call-to-front``: tests/agent_console and the
wallboard's browser test) do. Phones (conftest): 1xx answer after 300 ms.

What the ear hears is checked too: a caller placed with ``keypad`` has their own half parked in the app,
so a recording on it is what the caller hears, and a sound played on it is the caller speaking.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid
import wave
from array import array
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from routing import commands as cmd
from routing import events as ev
from routing.events import SupervisionMode as Mode
from routing.ids import AgentId, LineId, QueueId
from routing.plan import Agent, Did, Line, Plan, Queue
from telephony.errors import AriRequestError
from tests.integration.conftest import (
    ARI_URL,
    DIDS,
    Sandbox,
    SandboxFactory,
    act,
    bridge_members,
    phone,
    wait_until,
    wait_until_async,
    watch,
)

pytestmark = pytest.mark.asterisk

ACME, SUPPORT = QueueId("acme"), QueueId("support")
CALLER = "+14155550123"
DID = "+18005550101"
A1, B1, BOSS = AgentId("a1"), AgentId("b1"), AgentId("boss")
LOUD = 1000  # peak sample of a recording that heard tt-monkeys (silence is 0 here, noise a few dozen)


def plan(agents: dict[str, tuple[str, QueueId | None]]) -> Plan:
    queues = {
        q: Queue(id=q, name=q.title(), ring_timeout_s=10, max_wait_s=120, announce_every_s=0)
        for q in (ACME, SUPPORT)
    }
    line = Line(id=LineId("acme"), name="Acme Service", queue=ACME)
    return Plan(
        dids={n: Did(n, src, line.id) for n, src in DIDS.items()},
        lines={line.id: line},
        queues=queues,
        agents={
            AgentId(a): Agent(id=AgentId(a), name=a, endpoint=ext, queues=() if q is None else (q,))
            for a, (ext, q) in agents.items()
        },
    )


STAFF = {"a1": (phone("101"), ACME), "boss": (phone("102"), None)}


def requests(box: Sandbox) -> list[tuple[str, str, dict[str, str]]]:
    """Every REST call the service's PBX adapter makes from now on that Asterisk accepted, with params."""
    done: list[tuple[str, str, dict[str, str]]] = []
    client = box.service.ari
    original = client.request

    async def request(method: str, path: str, params: Any = None, body: Any = None) -> Any:
        result = await original(method, path, params, body)
        done.append((method, path, dict(params or {})))
        return result

    client.request = request  # type: ignore[method-assign]
    return done


members = bridge_members


async def holds(box: Sandbox, bridge: str, *channels: str, timeout: float = 10.0) -> None:
    last: list[set[str]] = []

    async def check() -> bool:
        last.append(await members(box, bridge))
        return last[-1] == set(channels)

    try:
        await wait_until_async(check, timeout, f"{bridge} holding {channels}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it holds {last[-1] if last else None}") from None


async def channel(box: Sandbox, channel_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await box.ari.request("GET", f"/channels/{quote(channel_id, safe='')}")
    return found


async def connected_call(box: Sandbox) -> tuple[str, str]:
    """A caller (keypad: their own half in the app) answered by a1; returns (call, a1's leg)."""
    agent = await box.console("a1")
    call = await box.call(CALLER, DID, keypad=True)
    await agent.expect("call-connected", call=call)
    leg = f"sb-{call}-1"
    await holds(box, f"sb-bridge-{call}", call, leg)
    return call, leg


# --- hearing ------------------------------------------------------------------------------------------
async def peak_heard(box: Sandbox, target: str, play_on: str, seconds: int = 3) -> int:
    """Record ``target`` (``/channels/<id>`` or ``/bridges/<id>``) while tt-monkeys plays on ``play_on``
    (likewise); the loudest sample it heard."""
    name = f"sbtest-{uuid.uuid4().hex[:10]}"
    params = {"name": name, "format": "wav", "maxDurationSeconds": str(seconds), "ifExists": "overwrite"}
    await box.ari.request("POST", f"{target}/record", params)
    playback = f"sbtest-pb-{uuid.uuid4().hex[:10]}"
    await box.ari.request("POST", f"{play_on}/play/{playback}", {"media": "sound:tt-monkeys"})
    await wait_until_async(lambda: _finished(box, name), seconds + 5, "the recording to finish")
    with contextlib.suppress(AriRequestError):
        await box.ari.request("DELETE", f"/playbacks/{playback}")
    data = await _stored(box, name)
    await box.ari.request("DELETE", f"/recordings/stored/{name}")
    with wave.open(io.BytesIO(data)) as w:
        samples = array("h", w.readframes(w.getnframes()))
    return max((abs(s) for s in samples), default=0)


async def _finished(box: Sandbox, name: str) -> bool:
    try:
        await box.ari.request("GET", f"/recordings/live/{name}")
    except AriRequestError as exc:
        return exc.status == 404
    return False


async def _stored(box: Sandbox, name: str) -> bytes:
    async with (
        aiohttp.ClientSession(headers=dict(box.ari.auth_header)) as http,
        http.get(f"{ARI_URL}/ari/recordings/stored/{name}/file") as resp,
    ):
        assert resp.status == 200, await resp.text()
        return await resp.read()


async def _in_app(box: Sandbox, channel_id: str) -> bool:
    try:
        return bool((await channel(box, channel_id))["dialplan"]["app_name"] == "Stasis")
    except AriRequestError:
        return False


def caller_half(call: str) -> str:
    return f"/channels/{quote(call.removesuffix(';2'), safe='')}"


# --- listen, whisper, barge ---------------------------------------------------------------------------
async def test_given_a_connected_call_when_the_supervisor_listens_then_a_snoop_in_their_bridge_hears_it(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox(STAFF, plan(STAFF))
    seen = watch(box)
    done = requests(box)
    call, leg = await connected_call(box)
    await act(box, ev.SupervisionRequested, BOSS, A1, Mode.LISTEN)
    sv, snoop, bridge = f"sb-sv-{call}-1", f"sb-snoop-{call}-1", f"sb-svbridge-{call}-1"
    await holds(box, bridge, sv, snoop)
    assert await members(box, f"sb-bridge-{call}") == {call, leg}  # the call itself is untouched
    (sent,) = [p for m, path, p in done if path == f"/channels/{quote(leg, safe='')}/snoop"]
    assert (sent["spy"], sent["whisper"], sent["snoopId"], sent["app"]) == ("both", "none", snoop, box.app)
    # What Asterisk reports of the snoop: a Snoop/ channel on the agent's leg, in our app; it does not
    # echo spy or whisper anywhere (neither in the channel nor in its dialplan data).
    snooping = await channel(box, snoop)
    assert snooping["name"].startswith(f"Snoop/{leg}-")  # Snoop/<the snooped channel's id>-<sequence>
    assert snooping["dialplan"]["app_name"] == "Stasis"
    assert snooping["dialplan"]["app_data"] == f"{box.app},snoop"
    assert (await channel(box, sv))["state"] == "Up"
    view = box.service.router.call_view(call)  # type: ignore[arg-type]
    assert view is not None and view.supervisors == ((BOSS, Mode.LISTEN),)
    # The supervisor hears the caller speak (spy both takes in what the agent's phone receives).
    assert await peak_heard(box, f"/bridges/{bridge}", caller_half(call)) > LOUD
    await box.hang_up_caller(call)
    for gone in (snoop, sv, leg):
        await box.gone(gone)
    assert await members(box, bridge) == set()
    changes = [c for c in seen if isinstance(c, cmd.SupervisionChanged)]
    assert [c.mode for c in changes] == [Mode.LISTEN, None]


async def test_given_a_whispering_supervisor_then_the_caller_does_not_hear_them(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox(STAFF, plan(STAFF))
    done = requests(box)
    call, leg = await connected_call(box)
    await act(box, ev.SupervisionRequested, BOSS, A1, Mode.WHISPER)
    sv, snoop, bridge = f"sb-sv-{call}-1", f"sb-snoop-{call}-1", f"sb-svbridge-{call}-1"
    await holds(box, bridge, sv, snoop)
    (sent,) = [p for m, path, p in done if path.endswith("/snoop")]
    assert (sent["spy"], sent["whisper"]) == ("both", "out")
    # The supervisor speaks into their bridge (the snoop channel takes it in): the caller hears nothing.
    # (On this sandbox that would hold for a whisper "in" too: Asterisk mixes whispered audio only into
    # frames flowing that way, and the simulated agent phone sends none. The direction is shown below.)
    assert await peak_heard(box, caller_half(call), f"/bridges/{bridge}") < LOUD
    # Which way "out" goes, on the same call: snoop the caller's own leg, with frames flowing towards the
    # caller (silence played to them). Whispering "out" reaches the caller, "in" does not: "out" is towards
    # the snooped channel's own device, so on the agent's leg it is the agent's phone.
    for direction, heard in (("out", True), ("in", False)):
        control = f"sbtest-snoop-{uuid.uuid4().hex[:8]}"
        params = {"spy": "none", "whisper": direction, "app": box.app, "appArgs": "test", "snoopId": control}
        await box.ari.request("POST", f"/channels/{quote(call, safe='')}/snoop", params)
        await wait_until_async(
            lambda control=control: _in_app(box, control), 5, "the control snoop in the app"
        )
        hush = f"sbtest-pb-{uuid.uuid4().hex[:8]}"
        await box.ari.request(
            "POST", f"/channels/{quote(call, safe='')}/play/{hush}", {"media": "sound:silence/10"}
        )
        peak = await peak_heard(box, caller_half(call), f"/channels/{control}")
        assert (peak > LOUD) is heard, f"whisper {direction} on the caller's leg: peak {peak}"
        await box.ari.hangup(control)
        with contextlib.suppress(AriRequestError):
            await box.ari.request("DELETE", f"/playbacks/{hush}")
    await box.hang_up_caller(call)
    for gone in (snoop, sv, leg):
        await box.gone(gone)


async def test_given_a_barging_supervisor_then_they_are_in_the_calls_bridge_and_leave_it_alone(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox(STAFF, plan(STAFF))
    seen = watch(box)
    call, leg = await connected_call(box)
    await act(box, ev.SupervisionRequested, BOSS, A1, Mode.BARGE)
    sv = f"sb-sv-{call}-1"
    await holds(box, f"sb-bridge-{call}", call, leg, sv)
    assert f"sb-snoop-{call}-1" not in await box.channels()
    await act(box, ev.SupervisionEnded, BOSS)
    await box.gone(sv)
    await holds(box, f"sb-bridge-{call}", call, leg)  # the call goes on without them
    assert [c.mode for c in seen if isinstance(c, cmd.SupervisionChanged)] == [Mode.BARGE, None]
    await box.hang_up_caller(call)
    await box.gone(leg)
    row = await box.logged(call)
    assert (str(row.record.outcome), str(row.record.hung_up_by)) == ("answered", "caller")


async def test_given_a_listening_supervisor_when_their_phone_hangs_up_then_only_their_legs_go(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox(STAFF, plan(STAFF))
    seen = watch(box)
    call, leg = await connected_call(box)
    await act(box, ev.SupervisionRequested, BOSS, A1, Mode.LISTEN)
    sv, snoop, bridge = f"sb-sv-{call}-1", f"sb-snoop-{call}-1", f"sb-svbridge-{call}-1"
    await holds(box, bridge, sv, snoop)
    await box.ari.hangup(sv)  # the supervisor puts the phone down
    await wait_until(lambda: any(isinstance(c, cmd.DropSupervisor) for c in seen), 5, "the supervision over")
    # A snoop channel hung up lingers until the next frame passes on the channel it snoops (its audiohook
    # is detached there); a real phone sends one every 20 ms, the simulated one none: play it a second of
    # silence, as its media would.
    await box.ari.request("POST", f"/channels/{quote(leg, safe='')}/play", {"media": "sound:silence/1"})
    await box.gone(snoop)
    assert await members(box, bridge) == set()
    assert await members(box, f"sb-bridge-{call}") == {call, leg}
    view = box.service.router.call_view(call)  # type: ignore[arg-type]
    assert view is not None and view.supervisors == () and str(view.state) == "connected"
    await box.hang_up_caller(call)
    await box.gone(leg)


# --- the queue ----------------------------------------------------------------------------------------
async def test_given_a_waiting_call_when_moved_then_an_agent_of_the_target_queue_takes_it(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("101"), ACME), "b1": (phone("102"), SUPPORT)}
    box = await sandbox(agents, plan(agents))
    await box.console("a1", ready=False)
    second = await box.console("b1")
    call = await box.call(CALLER, DID)
    await wait_until(lambda: box.service.router.waiting(ACME) == [call], 5, "the call waiting in acme")
    await act(box, ev.CallMoved, call, "support")
    await second.expect("call-connected", call=call)
    await holds(box, f"sb-bridge-{call}", call, f"sb-{call}-1")
    await box.hang_up_caller(call)
    row = await box.logged(call)
    assert (row.record.queue, row.record.agent) == ("support", "b1")


async def test_given_two_waiting_calls_when_the_second_is_put_first_then_the_agent_gets_it_first(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("101"), ACME)}
    box = await sandbox(agents, plan(agents))
    agent = await box.console("a1", ready=False)
    first = await box.call(CALLER, DID)
    await wait_until(lambda: box.service.router.waiting(ACME) == [first], 5, "the first call waiting")
    second = await box.call("+14155550124", DID)
    await wait_until(lambda: len(box.service.router.waiting(ACME)) == 2, 5, "both calls waiting")
    await act(box, ev.CallPrioritised, second)
    assert box.service.router.waiting(ACME) == [second, first]
    await agent.send(type="ready")
    await agent.expect("call-connected", call=second)
    await holds(box, f"sb-bridge-{second}", second, f"sb-{second}-1")
    await box.hang_up_caller(second)
    await box.hang_up_caller(first)
    await asyncio.sleep(0)


async def test_given_a_listening_supervisor_when_the_agent_transfers_the_caller_then_the_supervisor_goes(
    sandbox: SandboxFactory,
) -> None:
    agents = {**STAFF, "b1": (phone("103"), SUPPORT)}
    box = await sandbox(agents, plan(agents))
    second = await box.console("b1")
    call, leg = await connected_call(box)
    await act(box, ev.SupervisionRequested, BOSS, A1, Mode.LISTEN)
    sv, snoop, bridge = f"sb-sv-{call}-1", f"sb-snoop-{call}-1", f"sb-svbridge-{call}-1"
    await holds(box, bridge, sv, snoop)
    await act(box, ev.TransferRequested, A1, ev.TransferKind.QUEUE, "support")
    for gone in (leg, snoop, sv):
        await box.gone(gone)
    await second.expect("call-connected", call=call)
    await holds(box, f"sb-bridge-{call}", call, f"sb-{call}-2")  # the caller goes on with b1, unsupervised
    assert await members(box, bridge) == set()
    await box.hang_up_caller(call)


async def test_given_a_supervisor_phone_still_ringing_when_the_caller_hangs_up_then_it_stops(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("101"), ACME), "boss": (phone("201"), None)}  # 2xx never answers
    box = await sandbox(agents, plan(agents))
    call, leg = await connected_call(box)
    await act(box, ev.SupervisionRequested, BOSS, A1, Mode.WHISPER)
    sv = f"sb-sv-{call}-1"
    await wait_until_async(lambda: _ringing(box, sv), 5, "the supervisor's phone ringing")
    await box.hang_up_caller(call)
    await box.gone(sv)
    await box.gone(leg)
    assert f"sb-snoop-{call}-1" not in await box.channels()  # never created: the phone never answered


async def _ringing(box: Sandbox, channel_id: str) -> bool:
    try:
        return bool((await channel(box, channel_id))["state"] == "Ringing")
    except AriRequestError:
        return False
