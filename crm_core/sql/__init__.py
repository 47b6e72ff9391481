"""The store's SQL adapter: ``SqlStore`` (``store``) and its parts, one module per domain concept and of
the same name (``customers``, ``accounts``, ``cases``, ``calls``, ``agent_states``, ``users``,
``sessions``, ``supervisor_actions``, ``reports`` with ``report_queries``, ``overview`` for the screen
pop's lookup and the 360, ``customer_csv`` for imports and exports), on what they share: ``database``
(engine, clock, region, bulk paths), ``dialect`` (every difference between SQLite and PostgreSQL, in one
object per backend), ``engine``, the tables (``orm``) and their translation to domain values (``rows``),
and the Alembic revisions under ``migrations/`` (``migrate`` runs them).

The only layer that may import SQLAlchemy, Alembic or a database driver. Must not be imported by
``crm_core.domain`` or ``crm_core.csv``; outside crm_core, only the wiring (switchboard/) opens it.
"""
