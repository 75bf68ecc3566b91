"""Applying the Alembic migrations: the only way the schema changes."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text

from tracker.core.db import Database
from tracker.core.settings import ConfigurationError

MIGRATION_LOCK = 0x666F7374  # "fost": the PostgreSQL advisory lock key migrations hold


def alembic_config(database: Database) -> Config:
    """An Alembic config pointing at the packaged migrations and this database."""
    config = Config()
    config.set_main_option("script_location", str(files("tracker") / "migrations"))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def _check_known(config: Config, connection: Connection) -> None:
    """ConfigurationError when the database is at a schema revision this version does not
    have (a newer version made it, or a dump of one was restored): Alembic cannot migrate
    from there, and this code does not know that schema."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    known = {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}
    unknown = set(MigrationContext.configure(connection).get_current_heads()) - known
    if unknown:
        raise ConfigurationError(
            f"the database of DATABASE_URL is at schema revision {', '.join(sorted(unknown))}, "
            "which this version does not know (made by a newer version?): run that version, "
            "or restore a backup made by this one"
        )


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision` (default: the newest)."""
    config = alembic_config(database)
    with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Processes starting together (`serve` and `worker`) migrate one after the other:
            # the next waits here, then finds the schema current. (SQLite's write lock does
            # this already.) Held until this transaction ends.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        _check_known(config, connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def is_current(database: Database) -> bool:
    """True when the database has the newest schema."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(database)).get_heads())
    with database.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        return set(MigrationContext.configure(connection).get_current_heads()) == heads
