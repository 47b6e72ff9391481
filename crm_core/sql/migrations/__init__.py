"""Alembic's environment and revisions for the crm_core schema (a package so it ships in the wheel)."""
