"""The ACD: a pure, deterministic call router.

``Router.handle(event) -> list[Command]``. Time arrives inside events (``at``), never from a clock.
This package must not import asyncio, aiohttp, sqlalchemy, redis, websockets or any of the shell
packages (telephony, agent_console, crm_core, switchboard); ``tests/test_architecture.py`` enforces it.

The vocabulary, plain data the shells share:

- ``events`` (what happened, the input), ``commands`` (what to do, the output), ``records`` (a row of
  the call log), ``ids``, ``errors``, ``plan`` and ``hours`` (the number plan and its opening hours).
- ``views``: read-only snapshots (``AgentView``, ``CallView``) for consoles, the wallboard and metrics.

The core:

- ``router``: the front. ``handle`` is a ``match`` over the event union, and ``Tick`` one over the
  timer kinds, each ending in ``assert_never``; the readers delegate to ``views``.
- ``book``: the ``Book``, all mutable state (calls, offers, agents, supervisions, heaps, timers, one
  counter per order), and its entries, which change state only through ``states``.
- ``states``: the agent, call, offer and supervision lifecycles as transition tables;
  ``diagram`` draws them into docs/states.md.
- Modules by concern, functions over (book, plan, event): ``matching`` (who takes what: choices only,
  over ``pools`` and ``strategies``), ``offers`` (ringing agents, and what becomes of each ring),
  ``queueing`` (arrival, identification, overflow rules, announcements, voicemail, callbacks, moves),
  ``agents`` (log-in, ready, pause, wrap-up, their day's counters), ``call_control`` (hold,
  transfers, escalation), ``supervision`` (listen, whisper, barge), ``endings`` (how calls end, their
  records), ``timers`` (``TimerKind`` and the one table of which counter cancels which timer) and
  ``audit`` (the router's promises, checked the slow way).
"""
