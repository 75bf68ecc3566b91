"""Alembic migrations of the schema; `tracker.schema.upgrade` applies them."""
