"""The store's CSV files: the customer import/export format (``customers``), the call export
(``calls``), the one-line writer both use (``lines``), an import's validation in a worker process
(``record_validation``, run as ``python -m crm_core.csv.record_validation``), and another system's file
mapped onto the import's columns (``mapping`` plans it from the header, ``remapping`` applies it to each
record). Text in, domain values out.

Builds on ``crm_core.domain`` only: must not import ``crm_core.sql``, SQLAlchemy, Alembic or a database
driver. The SQL adapter writes and streams what these modules parse and format.
"""
