"""The one place that wires everything: config -> store -> router -> runtime -> PBX -> consoles.

``build(settings, *, store=..., pbx=..., clock=...)`` makes the ``Service`` that ``switchboard serve`` runs
and the integration tests start in-process. Each dependency has a default and may be handed in instead
(as in cosmicpython's bootstrap): a store already open, another adapter of the ``Pbx`` port (the benches'
``SimulatedPbx``), a test's clock. ``open_store`` is how the service and the CLI open the store.

The router's commands reach their consumers through one ``CommandTable`` (switchboard/command_table.py),
built from the consumers' own annotations; ``SHARED`` says which commands several consumers need.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from aiohttp import web

from agent_console.api import reports
from agent_console.api.context import ApiConfig
from agent_console.app import ConsoleBackend, create_app
from agent_console.delivery_catchup import DeliveryCatchUp
from agent_console.desk import Desk, DeskStore
from agent_console.forms import DeliveryFeed
from agent_console.hub import ConsoleHub
from agent_console.messages import Floor
from agent_console.wallboard import Wallboard
from agent_console.wallboard_feed import WallboardFeed
from config.settings import Settings
from crm_core.domain.phones import to_e164
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing import events as ev
from routing import views
from routing.ids import CallId, LineId
from routing.router import Router
from routing.states import AgentState
from switchboard.bus import LocalBus
from switchboard.callers import CallerCache
from switchboard.cluster.fenced import FencedJournal, Standing
from switchboard.command_table import CommandTable, Handler
from switchboard.deliveries import MessageDelivery
from switchboard.followed_calls import FollowedCalls
from switchboard.identifier import CallerIdentifier
from switchboard.journal import Journal
from switchboard.metrics import Metrics
from switchboard.oncall_chain import OnCallChain
from switchboard.practice import Classify, counted, real_calls
from switchboard.promises import KeptBeforeSaid
from switchboard.recorder import AttemptRecorder, CallRecorder
from switchboard.runtime import RouterLoop
from switchboard.state_log import StateLog, StateLogCommand
from switchboard.training import PracticeCallers, known_callers
from switchboard.webhooks import Endpoint, LineWebhooks, Webhooks
from telephony.ari_client import AriClient
from telephony.pbx import AriPbx, Pbx

log = structlog.get_logger("bootstrap")

RECENT_LOGS = 5_000

Clock = Callable[[], float]
# A PBX adapter, given where its events go and the service's clock: ``SimulatedPbx`` is one as it stands.
PbxFactory = Callable[[Callable[[ev.Event], None], Clock], Pbx]

# The commands several consumers need, and which; every other command has exactly one consumer.
SHARED: Mapping[type, frozenset[str]] = {
    cmd.PopScreen: frozenset({"console", "metrics"}),  # the pop; the start of its latency
    cmd.WithdrawOffer: frozenset({"console", "state-log", "metrics"}),  # why the ring stopped
    cmd.AgentStateChanged: frozenset({"console", "state-log"}),
    cmd.LogCall: frozenset({"console", "call-log", "metrics"}),  # the wrap-up, the record, the counts
    cmd.TrainingChanged: frozenset({"console", "training"}),  # the trainee's badge; their practice callers
}


def normaliser(region: str) -> Callable[[str], str | None]:
    return functools.partial(to_e164, region=region)


def floor(settings: Settings) -> Floor:
    """What the console's messages need from the configuration."""
    return Floor(
        settings.plan, settings.region, settings.disposition_codes, settings.answering, settings.forms
    )


def endpoints(settings: Settings) -> dict[LineId, Endpoint]:
    """The lines whose answering profile names a webhook."""
    return {line: Endpoint(profile.webhook_url, profile.webhook_secret)
            for line, profile in settings.answering.items() if profile.webhook_url is not None}  # fmt: skip


async def open_store(settings: Settings, *, migrate: bool = True) -> SqlStore:
    """The store the settings name; with ``migrate``, its schema brought up to date first."""
    if migrate:
        await upgrade_async(settings.database_url)
    return SqlStore.open(settings.database_url, settings.region)


async def build(
    settings: Settings,
    *,
    store: SqlStore | None = None,
    pbx: PbxFactory | None = None,
    clock: Clock = time.time,
    journal: bool = True,
    practice: Classify = real_calls,
    keep_states: bool = True,
) -> Service:
    """The service; by default on the settings' store (migrated) and on Asterisk (``AriPbx``).
    ``journal=False`` runs without the router's journal (a restart then loses the router's state): for
    ``bench/journal_cost.py``, which measures what the journal costs. ``practice`` says which calls are
    simulated callers' (``switchboard demo``: all): logged marked, left out of the wallboard's counts;
    ``keep_states=False`` writes no agent state intervals (a demo's would count in the agent report)."""
    chosen = await open_store(settings) if store is None else store
    return Service(settings, chosen, pbx=pbx, clock=clock, journal=journal, practice=practice,
                   keep_states=keep_states)  # fmt: skip


class Service:
    def __init__(
        self,
        settings: Settings,
        store: SqlStore,
        *,
        pbx: PbxFactory | None = None,
        clock: Clock = time.time,
        journal: bool = True,
        practice: Classify = real_calls,
        keep_states: bool = True,
    ) -> None:
        self.settings = settings
        self.practice = practice
        self.keep_states = keep_states
        self.store = store
        self._clock = clock
        self.router = Router(settings.plan)
        self.bus = LocalBus()
        # Alone, this instance always leads; in a cluster, switchboard/cluster/node.py moves it in and out.
        self.standing = Standing(leading=settings.cluster is None)
        kept = FencedJournal(store.journal, self.standing)  # a deposed leader writes no more lines
        self.journal = Journal(kept, clock) if journal else None
        self.loop = RouterLoop(self.router, clock, self.bus, journal=self.journal)
        self.ari = AriClient(settings.ari.url, settings.ari.user, settings.ari.password, settings.ari.app)
        self.ari.gate = self.standing.may_command  # counts the requests, and refuses them unless leading
        self._pbx_factory = pbx
        self._pbx_generation = 0
        self.pbx = self.new_pbx()
        # While following: the calls the leader logged lately; a new leader writes those it finds missing.
        self.recent_logs: deque[cmd.LogCall] = deque(maxlen=RECENT_LOGS)
        self.callers = CallerCache(store, store)
        self.hub = ConsoleHub(self.callers, floor(settings))
        self.recorder = CallRecorder(store, self.callers, practice=practice, behind=self.journal)
        # A callback's confirmation is said once its booking is in the journal (switchboard/promises.py).
        self.promised = KeptBeforeSaid(self.journal, lambda c: self.pbx.execute(c), self._leads)
        self.attempts = AttemptRecorder(store.escalations)
        self.followed = FollowedCalls(self.callers, store)  # what a follower does when a call ends
        self.webhooks = Webhooks()
        # Taken messages: queued per the line's rules, sent by a worker (switchboard/deliveries.py).
        self.deliveries = MessageDelivery(settings, store, self.webhooks, clock)
        notifier = self.deliveries.notifier(LineWebhooks(self.webhooks, endpoints(settings)))
        # Each message's deliveries, live (in a cluster, on every instance: switchboard/cluster/node.py).
        self.delivery_feed = DeliveryFeed(self.hub).changed
        self.deliveries.watchers.add(self.delivery_feed)
        # A tab that joins gets the statuses it missed while away, read from the store (shared by a cluster).
        self.delivery_catchup = DeliveryCatchUp(store.deliveries, clock)
        self.delivery_catchup.attach(self.hub)
        self.desk = Desk(
            DeskStore(store, store.calls, store.cases, store.customers, store),
            self.recorder, self.callers, notifier, clock,
        )  # fmt: skip
        self.identifier = CallerIdentifier(self.callers, store, self.loop.submit, clock)
        self.state_log = StateLog(store.agent_states)
        # Practice callers for the agents in training (issue 17), through whichever PBX adapter is current.
        self.training = PracticeCallers(
            settings.plan, lambda: self.pbx, functools.partial(known_callers, store)
        )
        self.metrics = Metrics(self.router, settings.plan, lambda: self.pbx.connected.is_set(), clock,
                               standing=self.standing, counted=counted(practice))  # fmt: skip
        self.hub.ack_observers.append(self.metrics.pop_acknowledged)
        self.zone = ZoneInfo(settings.plan.timezone)
        # One reading of the per-queue service targets for the wallboard and the reports alike.
        targets = {str(queue): level for queue, level in settings.service_targets.items()}
        self.reporting = reports.reporting(targets, settings.default_target, self.zone)
        self.wallboard = self._wallboard()
        self.commands = self._command_table()
        self.bus.route(self.commands)
        self.loop.observers.append(self._prefetch_caller)
        self.backend = ConsoleBackend(  # its ``supervision.audit`` lists supervisors' orders
            self.ask, self.router, clock, store.users, self.health, self.desk, self.wallboard,
            store.supervisor_actions, sessions=store.sessions, origins=settings.console_origins,
            secure_cookies=settings.secure_cookies,
            on_call=OnCallChain(store.oncall, settings.ari.outbound_endpoint),
        )  # fmt: skip
        api = ApiConfig(store, settings.api_tokens, settings.region, reporting=self.reporting)
        self.web = create_app(self.hub, self.backend, api, self.metrics.render)
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None

    def clock(self) -> float:
        return self._clock()

    def new_pbx(self) -> Pbx:
        """A PBX adapter with nothing known yet: at the start, and for each leadership in a cluster. What
        an adapter of an earlier leadership still reports (a request that was under way, refused now) is
        not this leadership's news: only the newest adapter's events reach the router."""
        self._pbx_generation += 1
        generation = self._pbx_generation

        def submit(event: ev.Event) -> None:
            if generation == self._pbx_generation:
                self.loop.submit(event)

        if self._pbx_factory is not None:
            return self._pbx_factory(submit, self._clock)
        return AriPbx(
            self.ari, submit, self._clock, normaliser(self.settings.region),
            outbound_endpoint=self.settings.ari.outbound_endpoint,
        )  # fmt: skip

    def retire_pbx(self) -> None:
        """Stop listening to the current adapter (a leader standing down)."""
        self._pbx_generation += 1

    def _wallboard(self) -> WallboardFeed:
        plan = self.settings.plan
        board = Wallboard(plan, self.router, self.zone, targets=self.reporting.targets,
                          default_target=self.reporting.default_target,
                          counted=counted(self.practice))  # fmt: skip
        return WallboardFeed(board, self._clock, pause_reasons=plan.pause_reasons, zone=self.zone)

    def _command_table(self) -> CommandTable:
        # Only the leader commands the PBX and writes; a follower's router says the same, for its consoles.
        consumers: dict[str, Handler] = {
            "pbx": self._to_pbx,
            "identifier": self._to_identifier,
            "console": self.hub.notice,
            "call-log": self._to_call_log,
            "state-log": self._to_state_log,
            "metrics": self.metrics.notice,
            "attempts": self._to_attempts,
            "training": self._to_training,
        }
        # The wallboard's view may move with anything the router says (a caller queued, or taken).
        return CommandTable(consumers, SHARED, watchers=[self.wallboard.notice])

    def _to_pbx(self, command: cmd.PbxCommand) -> None:
        if self.standing.leading:
            self.promised(command)

    def _leads(self) -> bool:
        return self.standing.leading

    def _to_training(self, command: cmd.TrainingChanged) -> None:
        if self.standing.leading:
            self.training.notice(command)

    def train_again(self) -> None:
        """The agents the router has in training get their practice callers again (a start, a new leader)."""
        for trainee in self.router.trainees():
            self._to_training(trainee)

    def _to_identifier(self, command: cmd.IdentifyCaller) -> None:
        if self.standing.leading:
            self.identifier.notice(command)

    def _to_call_log(self, command: cmd.LogCall) -> None:
        if self.standing.leading:
            self.recorder.notice(command)
        else:
            self.recent_logs.append(command)
            self.followed.notice(command)

    def _to_attempts(self, command: cmd.EscalationAttempt) -> None:
        if self.standing.leading:
            self.attempts.notice(command)

    def _to_state_log(self, command: StateLogCommand) -> None:
        if self.standing.leading and self.keep_states:
            self.state_log.notice(command)

    async def ask(self, event: ev.Event) -> list[cmd.Command]:
        """A console's order to the router: this instance's, or the leader's on a follower (the commands
        it causes are then not returned here: nothing reads them)."""
        remote = self.standing.remote_ask
        if self.standing.leading or remote is None:
            return await self.loop.ask(event)
        await remote(event)
        return []

    def _prefetch_caller(self, event: ev.Event) -> None:
        if isinstance(event, ev.CallArrived | ev.TrainingCallArrived):
            if self.standing.leading:
                self.callers.prefetch(event.call, event.caller_number)
            else:  # once the router has handled it (and the rest of the stream's batch): whose phone rings
                asyncio.get_running_loop().call_soon(
                    self._prefetch_if_shown_here, event.call, event.caller_number
                )

    def _prefetch_if_shown_here(self, call: CallId, number: str | None) -> None:
        """A follower: the caller looked up as the leader does, unless the call already rings only agents
        whose consoles are on other instances. Every member looked up every caller (a customer 360 each):
        8-9 % of a follower's loop at 50 calls/s, and three lookups in the store a call, mostly for pops
        shown elsewhere (bench/README.md). A call that rings here later (it waited, or another agent
        missed it) is looked up then: its pop goes out at once, the record following it."""
        agents = self.router.offered_agents(call)
        if agents is None:
            return  # over already: nothing to show, and nothing would forget the lookup
        if agents and not any(self.hub.present(agent) for agent in agents):
            return
        self.callers.prefetch(call, number)

    def health(self) -> dict[str, object]:
        return {
            "ari_connected": self.pbx.connected.is_set(), "active_calls": self.router.active_calls,
            **self.standing.health(),
        }  # fmt: skip

    async def start(self, http: bool = True) -> None:
        if self.settings.cluster is not None:
            from switchboard.cluster.node import join  # Redis is imported only by those who use it

            await join(self, self.settings.cluster)
        else:
            await self._start_alone()
        self.deliveries.start(self.web, self.run_beside)  # the read links; the worker, cancelled by stop
        if http:
            self._runner = web.AppRunner(self.web)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.settings.http_host, self.settings.http_port)
            await site.start()
            log.info("http.listening", host=self.settings.http_host, port=self.settings.http_port)

    def run_beside(self, *runs: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run these until the service stops."""
        for run in runs:
            self._tasks.append(asyncio.create_task(run()))

    async def _start_alone(self) -> None:
        await self.store.claim()  # one service per store: a second is refused (crm_core/sql/instance.py)
        await self._restore()
        await self.state_log.start(now := self._clock(), self.agents_as_kept(now))
        # Today so far, before the router runs: nothing can happen between the read and the first event.
        await self.wallboard.load(self.store.reports, self.store.agent_states)
        loop = functools.partial(self.loop.run, self.pbx.connected)  # deadlines after the PBX's news
        runs: list[Callable[[], Coroutine[Any, Any, None]]] = [
            loop, self.recorder.run, self.attempts.run, self.state_log.run, self.pbx.run, self.wallboard.run
        ]  # fmt: skip
        if self.journal is not None:
            runs.append(self.journal.run)
        self.run_beside(*runs)

    async def _restore(self) -> None:
        """The router's state as the last run left it (switchboard/journal.py), before anything runs."""
        if self.journal is None:
            return
        restored = await self.journal.restore(self.router)
        await self.recorder.replayed(restored.records)  # calls that ended just before the stop
        self.pbx.adopt(views.channels(self.router.book), restored.as_of)
        await self.renamed()
        self.hub.restate(self.router.restated(self._clock()))  # the pops, connections, holds; who trains
        self.train_again()

    async def renamed(self) -> None:
        """The customers agents had named for live calls (the router kept them), looked up again, so the
        pop a console gets back shows the one chosen, not the list to choose from again. A store that
        cannot answer leaves the pop as the lookup makes it; the record still names the customer."""
        for call, number, customer in views.named_customers(self.router.book):
            try:
                await self.callers.named(call, number, int(customer))
            except Exception:
                log.exception("bootstrap.named-customer-lost", call=call, customer=customer)

    def agents_as_kept(self, at: float) -> list[cmd.AgentStateChanged]:
        """Every agent the restored router has signed in, in their state as of ``at``."""
        found = (views.agent_view(self.router.book, agent) for agent in self.router.book.agents)
        return [cmd.AgentStateChanged(v.agent, v.state, v.reason, at, v.until)
                for v in found if v.state is not AgentState.LOGGED_OUT]  # fmt: skip

    async def stop(self) -> None:
        """Finish what was handed over (PBX commands, call-log writes), keep the router's state in a
        snapshot (the next start replays nothing), then close everything."""
        self.standing.stopping = True  # several instances: it takes no lease on its way out
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.pbx.idle(), 5)
        if self.journal is not None and self.standing.leading:
            self.journal.snapshot(self.router, self._clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.journal.flush(), 5)
                if await asyncio.wait_for(self.promised.idle(), 5):  # a confirmation held for that flush
                    await asyncio.wait_for(self.pbx.idle(), 5)
            await asyncio.wait_for(self.identifier.idle(), 5)
            await asyncio.wait_for(self.recorder.flush(), 10)
            await asyncio.wait_for(self.attempts.flush(), 10)
            await asyncio.wait_for(self.state_log.flush(), 10)
            await asyncio.wait_for(self.desk.idle(), 20)  # webhooks under way: three 5 s attempts at most
        await self.training.stop()
        for task in reversed(self._tasks):  # the cluster's member last started, first stopped: it gives
            task.cancel()  # the lease back (a standby takes over at once) once the writers are done
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        await self.ari.close()
        await self.webhooks.close()
        await self.store.close()
