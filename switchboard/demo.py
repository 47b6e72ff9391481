"""``switchboard demo``: the whole service, on the simulated PBX, with simulated callers and agents.

No Asterisk: ``telephony.simulated.SimulatedPbx`` rings, answers and hangs up in-process. What it adds to
``bootstrap.build``:

- **the store's customers call** (``demo_callers``), at a chosen rate, on the numbers of the plan that
  reach a queue now (a closed line's number is left alone: its calls would go where nobody works); a
  store without customers gets a few demo customers first;
- **simulated agents** (``sim-1``, ...; every queue) who sign in, take calls, put callers on hold, pass
  some on to another queue, and hang up; the queue's wrap-up time follows. A person who signs in to the
  console as one of the plan's own agents gets demo calls popped like anyone (their phone answers by
  itself, and the caller hangs up after the script's talk time unless the agent ends the call first);
- **sign-in**: a store without users gets ``demo-agent`` (the plan's first agent) and
  ``demo-supervisor`` (the wallboard), with one password, printed once;
- **nothing counted**: every call is logged marked ``demo`` (``switchboard.practice``), which every report,
  the wallboard's counts and every service level leave out; the agents' state intervals of a demo are
  not written (the agent report would count them) and the router keeps no journal (the next ``serve``
  starts from its own).
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import structlog

from config.settings import Settings
from crm_core.domain.users import Role
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing import events as ev
from routing.destinations import Target, destination
from routing.ids import AgentId, CallId, QueueId
from routing.plan import Agent, Plan
from routing.states import AgentState
from switchboard.bootstrap import Clock, Service, build
from switchboard.demo_callers import Caller, Callers
from switchboard.practice import demo_calls
from switchboard.training import known_callers
from telephony.simulated import SimulatedPbx, Timing

log = structlog.get_logger("demo")

# The simulated phones: they ring at once and are picked up after a couple of seconds (the pop shows a
# ringing call first); callers hang up by their script (``Demo``), not by the PBX's clock.
TIMING = Timing(ring_after_s=0.2, answer_after_s=2.0, hang_up_after_s=None)
HOLD_S = 4.0
DEMO_CUSTOMERS = (
    ("Jane Doe", "Doe Plumbing", "+14155550123"),
    ("Raj Patel", "Patel Dental", "+14155550124"),
    ("Maria Garcia", None, "+13125550125"),
    ("Tom Becker", "Becker Roofing", "+12125550126"),
    ("Li Wei", "Wei Imports", "+16175550127"),
    ("Sofia Rossi", None, "+13055550128"),
)
USERS = ("demo-agent", "demo-supervisor")


@dataclass(frozen=True, slots=True)
class Options:
    rate_per_min: float
    agents: int
    seed: int | None


def demo_settings(settings: Settings, agents: int) -> Settings:
    """The settings a demo runs with: its simulated agents in the plan, alone (no cluster)."""
    return dataclasses.replace(settings, plan=with_simulated_agents(settings.plan, agents), cluster=None)


def with_simulated_agents(plan: Plan, count: int) -> Plan:
    """``plan`` and ``count`` simulated agents (``sim-1``, ...) who serve every queue."""
    queues = tuple(plan.queues)
    added = {AgentId(f"sim-{n}"): Agent(id=AgentId(f"sim-{n}"), name=f"Sim agent {n}",
                                        endpoint=f"Local/sim-{n}@demo/n", queues=queues)
             for n in range(1, count + 1)}  # fmt: skip
    return dataclasses.replace(plan, agents={**plan.agents, **added})


def simulated_agents(plan: Plan) -> list[AgentId]:
    return [agent for agent in plan.agents if agent.startswith("sim-")]


def open_numbers(plan: Plan, at: float, wanted: Collection[QueueId] = ()) -> list[str]:
    """The plan's numbers whose calls wait in a queue someone serves at ``at``; every number if none.
    With ``wanted`` (the queues of the people ready at a console), only those of them whose calls wait in
    one of these, when there are any: after Acme's hours its thirteen numbers go to the answering queue,
    and a new user who signed in as an Acme agent and pressed Ready got one call in fourteen, often none
    in a minute (the demo's own browser test, run after 18:00 New York time)."""
    served = {q for agent in plan.agents.values() for q in agent.queues}
    queues = {did: d.queue for did in sorted(plan.dids)
              if (d := destination(plan, did, at)).target is Target.QUEUE and d.queue in served}  # fmt: skip
    for_people = [did for did, queue in queues.items() if queue in wanted]
    return for_people or list(queues) or sorted(plan.dids)


async def seed(store: SqlStore, plan: Plan) -> str | None:
    """Demo customers in a store without any; the demo users in a store without users. The users'
    password, when they were made."""
    if not (await store.customers.search("", limit=1)).items:
        for name, company, phone in DEMO_CUSTOMERS:
            await store.add_customer(name, [(phone, "office")], company)
        log.info("demo.customers-added", count=len(DEMO_CUSTOMERS))
    if await store.users.list():
        return None
    password = secrets.token_urlsafe(12)
    first = sorted(a for a in plan.agents if not a.startswith("sim-"))
    agent = first[0] if first else None
    await store.users.add(USERS[0], password, Role.AGENT, agent=agent, name="Demo agent")
    await store.users.add(USERS[1], password, Role.SUPERVISOR, name="Demo supervisor")
    return password


def pbx_factory(timing: Timing = TIMING) -> Callable[[Callable[[ev.Event], None], Clock], SimulatedPbx]:
    return lambda submit, clock: SimulatedPbx(submit, clock, timing)


async def open_demo(
    settings: Settings, store: SqlStore, options: Options
) -> tuple[Service, Demo, str | None]:
    """The service on the simulated PBX and the demo that drives it (not started yet)."""
    settings = demo_settings(settings, options.agents)
    password = await seed(store, settings.plan)
    callers = Callers(await known_callers(store), rate_per_min=options.rate_per_min,
                      seed=secrets.randbits(32) if options.seed is None else options.seed)  # fmt: skip
    service = await build(settings, store=store, pbx=pbx_factory(), journal=False, practice=demo_calls,
                          keep_states=False)  # fmt: skip
    return service, Demo(service, callers), password


class Demo:
    """Places the callers, plays the simulated agents, and hangs up the callers by their scripts."""

    def __init__(self, service: Service, callers: Callers) -> None:
        self._service = service
        self._callers = callers
        self._plan = service.settings.plan
        self._simulated = frozenset(simulated_agents(self._plan))
        self._scripts: dict[CallId, Caller] = {}
        self._connected: set[CallId] = set()
        self._transferred: set[CallId] = set()
        self._later: dict[CallId, list[asyncio.TimerHandle]] = {}
        self.placed = 0

    @property
    def pbx(self) -> SimulatedPbx:
        pbx = self._service.pbx
        assert isinstance(pbx, SimulatedPbx), f"a demo runs on the simulated PBX, not {type(pbx).__name__}"
        return pbx

    async def run(self) -> None:
        """Sign the simulated agents in, then place callers until cancelled."""
        self._service.bus.subscribe(self.notice)
        await self._service.pbx.connected.wait()
        now = self._service.clock()
        for agent in sorted(self._simulated):
            self._submit(ev.AgentLoggedIn(agent, now))
            self._submit(ev.AgentBecameReady(agent, now))
        while True:
            numbers = open_numbers(self._plan, self._service.clock(), self._queues_of_people_ready())
            caller = self._callers.next_caller(numbers)
            await asyncio.sleep(caller.after_s)
            self._scripts[caller.call] = caller
            self.pbx.arrive(caller.call, caller.did, caller.number, caller.name)
            self.placed += 1
            self._after(caller.call, caller.patience_s, self._give_up, caller.call)

    def _queues_of_people_ready(self) -> set[QueueId]:
        """The queues of the plan's own agents (people at a console, not the simulated ones) ready now."""
        router = self._service.router
        people = (a for a in self._plan.agents.values() if a.id not in self._simulated)
        return {q for a in people if router.agent_view(a.id).state is AgentState.READY for q in a.queues}

    def notice(self, command: cmd.Command) -> None:
        match command:
            case cmd.CallConnected(agent=agent, call=call) if call in self._scripts:
                self._connected.add(call)
                self._play(agent, self._scripts[call])
            case cmd.LogCall(record=record) if record.part_of is None and record.call in self._scripts:
                self._forget(record.call)
            case _:
                return

    def _play(self, agent: AgentId, caller: Caller) -> None:
        """What happens once ``agent`` has the caller: a simulated agent holds, transfers, hangs up; with
        a person, the caller hangs up when done talking (unless the person ends the call first)."""
        call = caller.call
        if agent not in self._simulated:
            self._after(call, caller.talk_s, self._caller_hangs_up, call)
            return
        if caller.hold:
            self._after(call, caller.talk_s / 3, self._agent_does, agent, call, ev.HoldRequested)
            self._after(call, caller.talk_s / 3 + HOLD_S, self._agent_does, agent, call, ev.ResumeRequested)
        self._after(call, caller.talk_s, self._agent_ends, agent, call)

    def _agent_ends(self, agent: AgentId, call: CallId) -> None:
        target = self._transfer_target(call) if self._scripts[call].transfer else None
        if target is None or call in self._transferred:
            self._agent_does(agent, call, ev.AgentHungUp)
            return
        if self._on_call(agent, call):
            self._transferred.add(call)
            self._submit(ev.TransferRequested(agent, ev.TransferKind.QUEUE, target, self._service.clock()))

    def _transfer_target(self, call: CallId) -> QueueId | None:
        view = self._service.router.call_view(call)
        current = None if view is None else view.queue
        others = sorted(q for q in self._plan.queues if q != current)
        return others[0] if others else None

    def _agent_does(self, agent: AgentId, call: CallId, event: Callable[[AgentId, float], ev.Event]) -> None:
        if self._on_call(agent, call):
            self._submit(event(agent, self._service.clock()))

    def _on_call(self, agent: AgentId, call: CallId) -> bool:
        return self._service.router.agent_view(agent).call == call

    def _caller_hangs_up(self, call: CallId) -> None:
        self._submit(ev.CallerHungUp(call, self._service.clock()))

    def _give_up(self, call: CallId) -> None:
        if call not in self._connected:
            self._caller_hangs_up(call)

    def _after(self, call: CallId, delay_s: float, then: Callable[..., None], *args: object) -> None:
        handle = asyncio.get_running_loop().call_later(delay_s, then, *args)
        self._later.setdefault(call, []).append(handle)

    def _forget(self, call: CallId) -> None:
        for handle in self._later.pop(call, []):
            handle.cancel()
        self._scripts.pop(call, None)
        self._connected.discard(call)
        self._transferred.discard(call)

    def _submit(self, event: ev.Event) -> None:
        self._service.loop.submit(event)


def sign_in_line(settings: Settings, password: str | None, agents: Sequence[AgentId]) -> str:
    """What the demo tells the person who started it."""
    url = f"http://{settings.http_host}:{settings.http_port}/"
    who = (f"sign in as {USERS[0]} (an agent: press Ready) or {USERS[1]} (the wallboard), password {password}"
           if password is not None else "sign in as one of the store's users")  # fmt: skip
    return (f"switchboard: demo on {url}: {who}; simulated agents {', '.join(agents) or 'none'}; every call "
            "is marked demo and left out of the reports")  # fmt: skip
