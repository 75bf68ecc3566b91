"""Alembic environment: runs migrations on the connection or URL the caller configured."""

from __future__ import annotations

import importlib

from alembic import context
from sqlalchemy import MetaData, engine_from_config, pool
from sqlmodel import SQLModel

from tracker.core.db import normalise_url

config = context.config
# Tables other libraries create and manage themselves (APScheduler's persistent job store).
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def _include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Leave tables the schema does not own out of autogenerate's comparison, and indexes
    made on another backend only (`Index(...).ddl_if(dialect=...)`)."""
    if type_ == "table" and name in FOREIGN_TABLES:
        return False
    if type_ == "index" and not reflected:
        only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        if only is not None and only != context.get_bind().dialect.name:
            return False
    return True


def _metadata() -> MetaData | None:
    """The installation's tables, for autogenerate's comparison: the modules `alembic.ini`
    names under `tables` (the domain's and the API's own). Applying migrations needs none."""
    names = config.get_main_option("tables")
    if not names:
        return None
    for name in names.split(","):
        importlib.import_module(name.strip())
    return SQLModel.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=_metadata(),
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    """Use a connection handed in by `tracker.schema`, else connect to the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    section = config.get_section(config.config_ini_section) or {}
    section["sqlalchemy.url"] = normalise_url(section["sqlalchemy.url"])
    engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `fostering db upgrade`")
run_migrations()
