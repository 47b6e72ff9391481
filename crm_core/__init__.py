"""The shared customer store: who is calling (customers, their numbers, account, orders, cases) and what
happened to each call (the call log), on SQLite or PostgreSQL with the same schema and answers.

The domain side is plain frozen dataclasses and pure checks, one concept per module: ``customers``,
``accounts``, ``orders``, ``cases`` (lifecycle table, history), ``interactions`` (call filters, wrap-up,
call CSV), ``overview`` (the customer 360), ``pagination`` (opaque cursors), ``customer_csv`` (the import
format), ``record_validation`` (an import's validation in a worker process), ``phones`` (E.164),
``validation``, ``model`` (the screen-pop card, the logged call), ``ports`` and ``errors``. The adapter is
``SqlStore`` (``sql_store``) and its parts, one ``sql_*`` module each, mapped through ``orm`` and ``rows``
and migrated by Alembic (``migrate``). The screen pop's caller-number lookup is the hot path this package
is shaped around. ``phones.to_e164`` is the one definition of a
number's canonical form; config and the PBX adapter get it from the bootstrap.

Must not import telephony, agent_console or switchboard, and from routing only the plain data types in
``routing.records`` and ``routing.ids`` — never the router itself. Only ``orm``, ``rows``, ``engine``,
``migrate``, the migrations and the ``sql_*`` modules may import SQLAlchemy or Alembic.
``tests/crm_core/test_crm_architecture.py`` enforces these rules.
"""
