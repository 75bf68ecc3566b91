"""After a bulk load the planner has statistics to plan with (PostgreSQL's ANALYZE)."""

from __future__ import annotations

from sqlalchemy import text

from tracker.core.db import Database


def _column_statistics(database: Database, table: str) -> int:
    """Columns of `table` the planner has statistics for (ANALYZE writes them in its own
    transaction, so they read back at once)."""
    with database.engine.connect() as conn:
        query = text("SELECT count(*) FROM pg_stats WHERE tablename = :table")
        return int(conn.execute(query, {"table": table}).scalar_one())


def test_refreshing_statistics_analyses_every_table(migrated: Database) -> None:
    if migrated.is_sqlite:
        migrated.refresh_statistics()  # nothing to do there, and no error
        return
    with migrated.engine.begin() as conn:
        conn.execute(text("CREATE TABLE planner_probe (n integer)"))
        conn.execute(text("INSERT INTO planner_probe VALUES (1)"))
    try:
        # One row is far below autovacuum's threshold: no statistics until ANALYZE runs.
        assert _column_statistics(migrated, "planner_probe") == 0
        migrated.refresh_statistics()
        assert _column_statistics(migrated, "planner_probe") == 1
    finally:
        with migrated.engine.begin() as conn:
            conn.execute(text("DROP TABLE planner_probe"))
