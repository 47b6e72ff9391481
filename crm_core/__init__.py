"""The customer store: who is calling (customer cards looked up by phone number) and what happened to
each call (the call log).

The domain side (``model``, ``ports``, ``errors``) knows nothing of SQL; ``sql_store`` is the one adapter,
mapped through ``orm`` and migrated by Alembic (``migrate``). The screen pop's caller-number lookup is the
hot path this package is shaped around.

Must not import telephony, agent_console or switchboard, and from routing only the plain data types in
``routing.records`` and ``routing.ids`` — never the router itself. ``model``, ``ports`` and ``errors`` must
not import SQLAlchemy or Alembic. ``tests/crm_core/test_crm_architecture.py`` enforces both rules.
"""
