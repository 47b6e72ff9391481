"""The ``Pbx`` port and its Asterisk adapter, ``AriPbx``.

``AriPbx`` reads ARI's events websocket (reconnecting with backoff), turns messages into domain events
for the router, and carries out the router's PBX commands. Commands for one call run in order (an
offer must not be cancelled before it is created), except the answer, which runs beside them so it
never delays ringing the agent; different calls run concurrently. A failed REST call
comes back to the router as an event, never as an exception.

Prompts (position, callback offer) are started in the call's chain but waited for beside it, so an agent
who frees up during an announcement is rung at once. Whether hold music stops, plays or comes back after a
prompt is decided by the pure table in telephony/media.py; this adapter only carries its steps out.
Sounds: telephony/prompts.py.

Hold (and an escalation, and a transfer) takes the caller out of the call's mixing bridge and plays them
hold music: the agent, alone in the bridge, hears silence. Music started on a channel that stays in a
mixing bridge is not what a hold needs (the agent would still hear the caller), and ``/hold`` only sends a
hold indication to the caller's own device, which a trunk or a Local channel passes on rather than plays.

A supervisor's phone is rung like an agent's. Listen and whisper put a snoop channel on the agent's leg
(spy ``both``: what the agent says and what they hear; whisper ``none``, or ``out``: into what the agent's
phone receives, so the agent hears the supervisor and the caller does not) and bridge it with the
supervisor's leg in a bridge of their own; barge adds the supervisor's leg to the call's mixing bridge.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import uuid
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import structlog
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, OfferId
from telephony import media, prompts
from telephony.ari_client import AriClient
from telephony.errors import AriRequestError, AriUnavailable, TelephonyError
from telephony.translate import (
    AGENT,
    CALLBACK,
    SNOOP,
    SUPERVISOR,
    USED_EVENTS,
    Normalise,
    dying_calls,
    empty_bridges,
    is_shutdown_hangup,
    pbx_clock,
    reconcile,
    startup_time,
    translate,
    unanswered_callers,
)

log = structlog.get_logger("telephony")

LEG_ENTRY_TIMEOUT_S = 5.0
RETRY_FATAL_S = 5.0
PROMPT_LIMIT_S = 60.0  # a PlaybackFinished that never comes must not hold a call's chain for ever
# A bridge destroyed with a leg still in it (an agent let go of a caller) lingers for a moment: creating
# it again at once is refused (409, "already exists"), so the next bridge of that call tries again.
BRIDGE_RETRY_S, BRIDGE_RETRIES = 0.05, 40
OUTBOUND_ENDPOINT = "Local/{number}@switchboard-outbound"
# A practice caller for a trainee (issue 17): a Local channel whose one half enters the app from
# ``switchboard-training`` (args ``training,<agent>,<DID>``) and whose other half, the "caller", plays a
# recording in ``switchboard-training-caller`` for as many seconds as its extension says, then hangs up.
PRACTICE_ENDPOINT = "Local/{did}@switchboard-training/n"
PRACTICE_CALLER_CONTEXT = "switchboard-training-caller"
# What a snoop on the agent's leg whispers into: ``out`` is the audio the agent's phone receives.
WHISPER_DIRECTION = {"listen": "none", "whisper": "out"}

Submit = Callable[[ev.Event], None]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True, kw_only=True)
class PracticeCall:
    """A practice caller to place for ``trainee`` (``switchboard.training``): ``call`` is our id for the
    caller's channel, who dials ``did`` and stays ``stay_s`` seconds at most."""

    call: CallId
    did: str
    trainee: AgentId
    number: str
    name: str | None
    stay_s: float


class Pbx(Protocol):
    """The PBX port: router commands in, domain events out (to the ``Submit`` its adapter was given).

    Adapters: ``AriPbx`` (Asterisk) and ``telephony.simulated.SimulatedPbx`` (in-process, no PBX)."""

    @property
    def connected(self) -> asyncio.Event:
        """Set while the PBX's events reach us (the health check and ``/metrics`` read it)."""
        ...

    def adopt(self, channels: Collection[str], as_of: float | None = None) -> None:
        """Before ``run``, after a restart: the channels the router's restored books say are up, as of
        the books' last event. Those the PBX no longer has come back as their ends (the PBX's own, if it
        started after ``as_of``); the others are the router's, not leftovers."""

    def execute(self, command: cmd.PbxCommand) -> None:
        """Start carrying ``command`` out; outcomes come back as events."""

    async def run(self) -> None:
        """Read the PBX's events until cancelled."""

    def place_practice_call(self, practice: PracticeCall) -> None:
        """Start placing a practice caller: it comes back as a ``TrainingCallArrived``, or not at all."""

    async def idle(self) -> None:
        """Wait until every command started so far has been carried out (tests, shutdown)."""


class AriPbx:
    def __init__(
        self,
        client: AriClient,
        submit: Submit,
        clock: Clock,
        normalise: Normalise,
        outbound_endpoint: str = OUTBOUND_ENDPOINT,
    ) -> None:
        self._ari = client
        self._outbound = outbound_endpoint  # a callback's customer leg: ``{number}`` is filled in
        self._submit = submit
        self._clock = clock
        self._normalise = normalise
        self._tails: dict[CallId, asyncio.Task[None]] = {}
        self._side: set[asyncio.Task[None]] = set()
        self._live: set[str] = set()  # channels in our app, as far as the events told us
        # /channels/create returns before the new leg has entered our app, and /dial refuses (409) a
        # leg that has not: each offer waits for its leg's StasisStart here.
        self._entered: dict[str, asyncio.Event] = {}
        self._playbacks: dict[str, tuple[str, asyncio.Event]] = {}  # playback id -> (channel, finished)
        self.media = media.Media()  # what each channel hears: the decisions this adapter carries out
        self.connected = asyncio.Event()
        # Whether a channel found gone died with Asterisk: its start time as we last saw it (compared
        # as Asterisk reports it, so no clock of ours is involved), else the last moment we knew its
        # channels (a restart of ours: the books' last event; compared with our clock).
        self._pbx_started: str | None = None
        self._known_at: float | None = None
        self._pbx_stopping = False  # Asterisk said it is shutting down; until the next connect

    # --- events in ------------------------------------------------------------------------------
    def adopt(self, channels: Collection[str], as_of: float | None = None) -> None:
        # The first reconcile compares these with Asterisk's channels, as it does after a reconnect.
        self._live.update(channels)
        self._known_at = as_of

    async def run(self) -> None:
        while True:
            try:
                await self._connect_and_read()
            except (WebSocketException, OSError) as exc:
                # connect() gives up on what it deems fatal (e.g. 401 for a wrong ARI password): say so
                # loudly and try again later, so fixing Asterisk's side needs no restart of ours.
                log.error("ari.refused", url=self._ari.base_url, error=str(exc), retry_in_s=RETRY_FATAL_S)
                await asyncio.sleep(RETRY_FATAL_S)

    async def _connect_and_read(self) -> None:
        # websockets' connect() as an async iterator reconnects with exponential backoff on its own.
        async for ws in connect(
            self._ari.events_url, additional_headers=dict(self._ari.auth_header), max_size=2**22
        ):
            try:
                self._pbx_stopping = False
                await self._filter_events()
                await self._reconcile()
                self.connected.set()
                log.info("ari.connected", url=self._ari.base_url, app=self._ari.app)
                async for raw in ws:
                    self.on_message(raw)
            except (WebSocketException, OSError, TelephonyError) as exc:
                log.warning("ari.disconnected", error=str(exc))
            finally:
                if self.connected.is_set():
                    self._known_at = self._clock()
                self.connected.clear()

    async def _filter_events(self) -> None:
        try:
            await self._ari.filter_events(USED_EVENTS)
        except TelephonyError as exc:  # every event still comes, and those we do not read are dropped here
            log.warning("ari.no-event-filter", error=str(exc))

    async def _pbx_restarted(self) -> bool:
        """Whether Asterisk started since we last knew its channels: then every one we knew died with it."""
        try:
            info = await self._ari.info(status_only=True)
        except AriUnavailable:  # a kept-alive connection to a process that is gone: once more, on a new one
            await self._ari.forget_connections()
            info = await self._ari.info(status_only=True)
        started = startup_time(info)
        before, self._pbx_started = self._pbx_started, started
        if started is None:
            log.warning("ari.no-startup-time")  # cannot tell: the gone calls are taken as ended unseen
            return False
        if before is not None:
            return started != before
        return self._known_at is not None and pbx_clock(started) > self._known_at

    def on_message(self, raw: str | bytes) -> None:
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            log.warning("ari.bad-json", raw=str(raw)[:200])
            return
        if not isinstance(message, dict) or message.get("type") not in USED_EVENTS:
            return  # Asterisk sends only these once its event filter is set: until then, or without one
        try:
            self._track(message)
            events = translate(message, self._clock(), self._normalise)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            # A message of a shape we do not expect must not end the events loop for every other call.
            log.warning("ari.bad-event", error=repr(exc), raw=str(raw)[:200])
            return
        for event in events:
            self._submit(event)

    def _track(self, message: dict[str, Any]) -> None:
        if is_shutdown_hangup(message):
            if not self._pbx_stopping:  # the first of many: one per channel
                self._pbx_stopping = True
                dying = dying_calls(self._live, self._clock())
                log.warning("ari.pbx-shutting-down", calls_ended=len(dying))
                for event in dying:
                    self._submit(event)
            return
        if message["type"] == "PlaybackFinished":
            self._finished((message.get("playback") or {}).get("id"))
            return
        channel = (message.get("channel") or {}).get("id")
        if not isinstance(channel, str):
            return
        if message["type"] == "StasisStart":
            self._live.add(channel)
            entered = self._entered.get(channel)
            if entered is not None:
                entered.set()
        elif message["type"] == "StasisEnd":
            self._live.discard(channel)
            self.media.left(channel)
            for playback, (target, _) in list(self._playbacks.items()):
                if target == channel:  # no PlaybackFinished comes for a channel that left
                    self._finished(playback)

    def _finished(self, playback: object) -> None:
        if isinstance(playback, str) and playback in self._playbacks:
            channel, done = self._playbacks.pop(playback)
            done.set()
            self.media.finished(channel, playback)

    async def _reconcile(self) -> None:
        restarted = await self._pbx_restarted()
        if restarted:  # the connections kept alive were to the old process: the next request would fail
            await self._ari.forget_connections()
        channels = await self._ari.channels()
        events, orphans = reconcile(
            self._live, channels, self._ari.app, self._clock(), self._normalise, restarted
        )
        for caller in unanswered_callers(self._live, channels):
            log.info("ari.caller-answered-late", call=caller)
            self._beside(self._after(None, cmd.AnswerCall(CallId(caller))))
        self._live = {c["id"] for c in channels if c.get("id") in self._live}
        # Before the events go to the router: an answer found here has it bridge the call at once, and
        # its new bridge is empty until the channels are added (a cleanup after it destroyed it, and the
        # call ended as a failed bridge).
        for bridge in empty_bridges(await self._ari.bridges(), self._ari.app):
            # Left by a run that stopped with calls bridged, or by a leader deposed while bridging.
            log.info("ari.orphan-bridge", bridge=bridge)
            await self._quietly(self._ari.destroy_bridge(bridge))
        # Asked at once (a reconnect finds every bridged call's leg answered again), submitted in order.
        for event in await asyncio.gather(*(self._dated(e) for e in events)):
            if isinstance(event, ev.CallArrived):
                self._live.add(event.call)
            self._submit(event)
        for leg in orphans:
            log.info("ari.orphan-leg", channel=leg)
            await self._quietly(self._ari.hangup(leg))

    async def _dated(self, event: ev.Event) -> ev.Event:
        """An answer a reconcile found, dated when Asterisk says the leg was answered (its CDR's answer
        time), so the talk time counts from the real answer; as found, if Asterisk cannot say."""
        match event:
            case ev.OfferAnswered(offer=leg) | ev.CustomerAnswered(call=leg):
                pass
            case _:
                return event
        try:
            answered = float(await self._ari.variable(leg, "CDR(answer,u)"))
        except (TelephonyError, ValueError):
            return event
        if not 0 < answered <= event.at:  # not answered (0), or a clock we cannot compare with ours
            return event
        return dataclasses.replace(event, at=answered)

    # --- commands out ---------------------------------------------------------------------------
    def execute(self, command: cmd.PbxCommand) -> None:
        if isinstance(command, cmd.AnswerCall):
            # Nothing that follows depends on the answer, so it must not delay ringing the agent: run it
            # beside the call's chain (a later hangup of a half-answered channel is a harmless 404).
            # Answering after the agent's leg was dialled instead rang the phone 0.7 ms sooner (p50) but
            # popped the screen 0.4 ms (p50) and 1.2 ms (p99) later, past the 2 ms target: bench/README.
            self._beside(self._after(None, command))
            return
        previous = self._tails.get(command.call)
        task = asyncio.create_task(self._after(previous, command))
        self._tails[command.call] = task
        task.add_done_callback(functools.partial(self._forget, command.call))

    def place_practice_call(self, practice: PracticeCall) -> None:
        self._beside(self._place_practice_call(practice))

    async def _place_practice_call(self, practice: PracticeCall) -> None:
        caller = f'"{practice.name}" <{practice.number}>' if practice.name else practice.number
        endpoint = PRACTICE_ENDPOINT.format(did=practice.did.lstrip("+"))
        # Inherited by the half that enters the app: which app (as a test call's SB_APP), and whose call.
        variables = {"_SB_APP": self._ari.app, "_SB_TRAINEE": practice.trainee}
        stay = str(max(1, round(practice.stay_s)))
        try:
            await self._ari.originate(endpoint, PRACTICE_CALLER_CONTEXT, stay, caller, practice.call,
                                      variables=variables)  # fmt: skip
        except TelephonyError as exc:
            log.warning(
                "ari.practice-call-failed", call=practice.call, trainee=practice.trainee, error=str(exc)
            )

    def _beside(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._side.add(task)  # held, so the task is not collected before it is done
        task.add_done_callback(self._side.discard)

    def _forget(self, call: CallId, task: asyncio.Task[None]) -> None:
        if self._tails.get(call) is task:
            del self._tails[call]

    async def idle(self) -> None:
        """Wait until every command started so far has been carried out (tests, shutdown)."""
        while self._tails or self._side:
            await asyncio.gather(*self._tails.values(), *self._side, return_exceptions=True)

    async def _after(self, previous: asyncio.Task[None] | None, command: cmd.PbxCommand) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            await self._carry_out(command)
        except TelephonyError as exc:
            log.warning(
                "ari.command-failed", command=type(command).__name__, call=command.call, error=str(exc)
            )

    async def _carry_out(self, command: cmd.PbxCommand) -> None:
        ari = self._ari
        match command:
            case cmd.AnswerCall(call):
                await self._quietly(ari.answer(call))
                await self._hear(self.media.answered(call))
            case cmd.RejectCall(call, reason):
                log.info("call.rejected", call=call, reason=reason)
                await self._quietly(ari.hangup(call))
            case cmd.OfferCall():
                await self._offer(command)
            case cmd.CancelOffer(offer):
                await self._quietly(ari.hangup(offer))
            case cmd.PromptOnCall(offer, _, did, caller_number):
                # Not waited for: the key may come while it plays (ARI passes DTMF on during a playback).
                await self._play(offer, prompts.on_call(did, caller_number))
            case cmd.BridgeCall():
                await self._bridge(command)
            case cmd.ConsultOnCall():
                await self._consult(command)
            case cmd.EndCall():
                await self._end(command)
            case cmd.AnnouncePosition(call, place, expected_wait_s):
                await self._prompt(call, prompts.position(place, expected_wait_s))
            case cmd.OfferCallbackChoice(call):
                await self._prompt(call, prompts.sounds(prompts.CALLBACK_CHOICE))
            case cmd.TakeMessage(call, recording, max_s):
                await self._let_go(call)
                await self._play_through(call, prompts.sounds(prompts.MESSAGE_INTRO))
                await ari.record(call, recording, max_s)
            case cmd.DialCustomer():
                await self._dial_customer(command)
            case cmd.HoldCall(call, bridge):
                steps = self.media.held(call)
                await self._quietly(ari.remove_from_bridge(bridge, [call]))
                await self._hear(steps)
            case cmd.ResumeCall(call, bridge):
                await self._let_go(call)
                await self._resume(call, bridge)
            case cmd.DropLeg(_, leg, bridge):
                await self._quietly(ari.hangup(leg))
                await self._quietly(ari.destroy_bridge(bridge))
            case cmd.DialNumber():
                await self._dial_number(command)
            case cmd.RingSupervisor(leg, call, _, endpoint, timeout_s):
                failed = await self._place_leg(leg, endpoint, f"{SUPERVISOR},{call}", call, timeout_s, None)
                if failed is not None:
                    self._submit(ev.SupervisorLegEnded(leg, self._clock()))
            case cmd.ConnectSupervisor():
                await self._supervise(command)
            case cmd.DropSupervisor(leg, _, snoop, bridge):
                if snoop is not None:
                    await self._quietly(ari.hangup(snoop))
                await self._quietly(ari.hangup(leg))
                if bridge is not None:
                    await self._quietly(ari.destroy_bridge(bridge))

    async def _supervise(self, command: cmd.ConnectSupervisor) -> None:
        """Snoop on the agent's leg and bridge it with the supervisor's (or barge: join the call's bridge).
        If that fails, the supervisor's leg is hung up: its end tells the router."""
        leg, snoop, bridge = command.leg, command.snoop, command.bridge
        try:
            if snoop is not None:
                entered = self._entered[snoop] = asyncio.Event()
                try:
                    whisper = WHISPER_DIRECTION[command.mode]
                    await self._ari.snoop(command.agent_leg, snoop, "both", whisper, SNOOP)
                    await asyncio.wait_for(entered.wait(), LEG_ENTRY_TIMEOUT_S)
                finally:
                    self._entered.pop(snoop, None)
                await self._create_bridge(bridge)
            await self._ari.add_to_bridge(bridge, [leg] if snoop is None else [leg, snoop])
        except (TelephonyError, TimeoutError) as exc:
            log.warning("ari.supervise-failed", leg=leg, error=str(exc) or type(exc).__name__)
            if snoop is not None:
                await self._quietly(self._ari.hangup(snoop))
            await self._quietly(self._ari.hangup(leg))

    async def _bridge(self, command: cmd.BridgeCall) -> None:
        call, offer, bridge = command.call, command.offer, command.bridge
        try:
            await self._create_bridge(bridge)
            await self._let_go(call)
            await self._hear(self.media.agent_bridged(offer))  # a callback's agent heard music
            playback = self.media.playing(offer)
            if playback is not None:  # an on-call person accepted during their prompt: it stops
                await self._hear([media.StopPrompt(playback)])
            await self._ari.add_to_bridge(bridge, [call, offer])
        except TelephonyError as exc:
            log.warning("ari.bridge-failed", call=call, error=str(exc))
            self._submit(ev.BridgeFailed(call, str(exc), self._clock()))

    async def _consult(self, command: cmd.ConsultOnCall) -> None:
        """A warm patch: the on-call person who accepted joins the agent in the call's bridge (the caller,
        on hold, is not in it). If that fails, their leg is hung up: its end tells the router."""
        offer = command.offer
        playback = self.media.playing(offer)
        if playback is not None:  # they pressed 1 during their prompt: it stops
            await self._hear([media.StopPrompt(playback)])
        try:
            await self._ari.add_to_bridge(command.bridge, [offer])
        except TelephonyError as exc:
            log.warning("ari.consult-failed", call=command.call, offer=offer, error=str(exc))
            await self._quietly(self._ari.hangup(offer))

    async def _create_bridge(self, bridge: str) -> None:
        for _ in range(BRIDGE_RETRIES):
            try:
                await self._ari.create_bridge(bridge)
                return
            except AriRequestError as exc:
                if exc.status != 409:
                    raise
                await asyncio.sleep(BRIDGE_RETRY_S)
        await self._ari.create_bridge(bridge)

    async def _resume(self, call: CallId, bridge: str) -> None:
        try:
            await self._ari.add_to_bridge(bridge, [call])
        except TelephonyError as exc:  # the agent's side of the bridge is gone: end like a failed bridge
            self._submit(ev.BridgeFailed(call, str(exc), self._clock()))

    async def _end(self, command: cmd.EndCall) -> None:
        if command.farewell is not None:
            await self._let_go(command.call)
            await self._play_through(command.call, prompts.farewell(command.farewell))
        for channel in command.channels:
            await self._quietly(self._ari.hangup(channel))
        if command.bridge is not None:
            await self._quietly(self._ari.destroy_bridge(command.bridge))

    # --- what the caller hears --------------------------------------------------------------------
    async def _hear(self, steps: list[media.Step]) -> None:
        """Carry out the media table's steps, in order."""
        for step in steps:
            match step:
                case media.StartMusic(channel):
                    await self._quietly(self._ari.start_moh(channel))
                case media.StopMusic(channel):
                    await self._quietly(self._ari.stop_moh(channel))
                case media.StopPrompt(playback):
                    await self._quietly(self._ari.stop_playback(playback))
                    self._finished(playback)

    async def _prompt(self, call: CallId, sounds: prompts.Media) -> None:
        """Interrupt the hold music with ``sounds``; the music comes back when they are over."""
        steps = self.media.prompt(call)
        if steps is None:
            return
        await self._hear(steps)
        playback = await self._play(call, sounds)
        if playback is not None:
            self._beside(self._resume_hold(call, playback))

    async def _resume_hold(self, call: CallId, playback: str) -> None:
        await self._played(playback)
        try:
            await self._hear(self.media.prompt_over(call, call in self._live))
        except TelephonyError as exc:
            log.warning("ari.moh-failed", call=call, error=str(exc))

    async def _let_go(self, call: CallId) -> None:
        await self._hear(self.media.let_go(call))

    async def _play_through(self, channel: str, sounds: prompts.Media) -> None:
        playback = await self._play(channel, sounds)
        if playback is not None:
            await self._played(playback)

    async def _play(self, channel: str, sounds: prompts.Media) -> str | None:
        """Start ``sounds`` on the channel; None when they cannot play (most often: the caller is gone)."""
        playback = f"sb-pb-{uuid.uuid4().hex[:16]}"
        self._playbacks[playback] = (channel, asyncio.Event())
        self.media.started(channel, playback)
        try:
            await self._ari.play(channel, playback, sounds)
        except TelephonyError as exc:
            log.info("ari.prompt-not-played", channel=channel, error=str(exc))
            self._finished(playback)
            return None
        return playback

    async def _played(self, playback: str) -> None:
        entry = self._playbacks.get(playback)
        if entry is None:
            return
        try:
            await asyncio.wait_for(entry[1].wait(), PROMPT_LIMIT_S)
        except TimeoutError:
            log.warning("ari.prompt-unfinished", playback=playback)
            self._finished(playback)

    # --- new legs ---------------------------------------------------------------------------------
    async def _offer(self, offer: cmd.OfferCall) -> None:
        # An on-call person's number (no agent) is rung exactly like an agent's phone.
        await self._offer_leg(offer.offer, offer.endpoint, offer.call, offer.agent or "", offer.timeout_s)

    async def _dial_number(self, dial: cmd.DialNumber) -> None:
        """A transfer to an outside number: a leg like an agent's, placed through the outbound endpoint."""
        endpoint = self._outbound.format(number=dial.number)
        await self._offer_leg(dial.offer, endpoint, dial.call, "", dial.timeout_s)

    async def _offer_leg(
        self, offer: OfferId, endpoint: str, call: CallId, agent: str, timeout_s: float
    ) -> None:
        args = f"{AGENT},{call},{agent}"
        failed = await self._place_leg(offer, endpoint, args, call, timeout_s, call)
        if failed is not None:
            self._submit(ev.OfferFailed(offer, failed, self._clock()))

    async def _dial_customer(self, dial: cmd.DialCustomer) -> None:
        """A callback: the agent (on ``dial.offer``) hears hold music while the customer's phone rings."""
        await self._hear(self.media.dialing_customer(dial.offer))
        endpoint = self._outbound.format(number=dial.number)
        args = f"{CALLBACK},{dial.offer}"
        failed = await self._place_leg(dial.call, endpoint, args, dial.offer, dial.timeout_s, None)
        if failed is not None:  # the customer cannot be reached: for the router, the callee hung up
            self._submit(ev.CallerHungUp(dial.call, self._clock()))

    async def _place_leg(
        self, leg: str, endpoint: str, args: str, originator: str, timeout_s: float, caller: str | None
    ) -> str | None:
        """Create a leg, wait for it to enter the app, dial it; the reason it failed, or None."""
        entered = self._entered[leg] = asyncio.Event()
        try:
            await self._ari.create_channel(leg, endpoint, args, originator=originator)
        except TelephonyError as exc:
            del self._entered[leg]
            return str(exc)
        try:
            await asyncio.wait_for(entered.wait(), LEG_ENTRY_TIMEOUT_S)
            await self._ari.dial(leg, timeout_s, caller=caller)
        except (TelephonyError, TimeoutError) as exc:
            # The leg exists but will never ring: report it now, and hang the leg up.
            reason = str(exc) or type(exc).__name__
            log.warning("ari.dial-failed", leg=leg, error=reason)
            await self._quietly(self._ari.hangup(leg))
            return reason
        finally:
            self._entered.pop(leg, None)
        return None

    @staticmethod
    async def _quietly(request: Coroutine[Any, Any, Any]) -> None:
        """For clean-up calls whose target may already be gone: a 404 there is success."""
        try:
            await request
        except AriRequestError as exc:
            if exc.status not in (404, 409, 422):
                raise
