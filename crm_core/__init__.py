"""The shared customer store: who is calling (customers, their numbers, account, orders, cases) and what
happened to each call (the call log), on SQLite or PostgreSQL with the same schema and answers.

Three layers, one sub-package each, each building only on the ones before it:

    domain/   what the store knows and decides: frozen dataclasses, pure checks and figures, the ports
    csv/      the file formats it reads and writes (customers in, customers and calls out), and an
              import's validation in a worker process
    sql/      the adapter: ``SqlStore`` and its parts on SQLAlchemy, the tables, the one ``dialect``
              object per backend, and the Alembic migrations

A domain module and the SQL module that stores it share a name (``domain/cases.py`` and
``sql/cases.py``). The screen pop's caller-number lookup is the hot path this package is shaped around.
``domain.phones.to_e164`` is the one definition of a number's canonical form (config and the PBX adapter
get it from the bootstrap) and ``domain.phones.display`` the one way a number is shown to people.

Must not import telephony, agent_console, switchboard or config, and from routing only the plain data
types in ``routing.records`` and ``routing.ids``, never the router itself. Nothing outside ``crm_core.sql``
imports SQLAlchemy, Alembic or a database driver; outside crm_core, only the wiring (switchboard/) opens
the SQL store, everything else takes the ports and types of ``crm_core.domain``.
``tests/crm_core/test_crm_architecture.py`` enforces these rules.
"""
