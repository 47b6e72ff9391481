"""The store's domain: what it knows and decides, with no I/O.

One concept per module, as plain frozen dataclasses and pure functions: ``customers`` (and ``KEEP``,
the "leave as it is" of every change set), ``accounts``, ``orders``, ``cases`` (the lifecycle table, the
history), ``calls`` (the logged call, call filters, the wrap-up), ``overview`` (the screen-pop card, the
customer 360), ``agent_states``, ``figures`` (the supervisors' formulas) and ``reports``, ``users`` and
``passwords``, ``supervisor_actions``, ``phones`` (E.164 in, display out), ``validation``,
``spreadsheet_cells`` (cells a spreadsheet would run, neutralised in every CSV written),
``pagination`` (opaque cursors), ``errors``, and ``ports``: the Protocols the rest of Switchboard asks of
the store.

Must not import SQLAlchemy, Alembic or a database driver, nor ``crm_core.csv`` or ``crm_core.sql``: the
layers above build on this one, never the other way round.
"""
