"""Alembic migrations of the schema; `tracker.core.schema.upgrade` applies them."""
