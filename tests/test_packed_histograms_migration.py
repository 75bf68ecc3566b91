"""Migration 0018 packs the prepared duration rows stored before it (one row a day count) into
one row a month and pair, on both backends, and its downgrade gives the same rows back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import select, text

from tests.conftest import database_at
from tracker.core import schema
from tracker.core.db import Database
from tracker.core.monthly_tables import FunnelMonthHistogram

DAY_ROWS = [
    ("E06000021", "2024-03", 0, 5, 2),
    ("E06000021", "2024-03", 0, 1, 1),
    ("E06000021", "2024-03", 2, 30, 4),
    ("E06000021", "2024-04", 0, 0, 3),
    ("E08000026", "2024-04", 0, 7, 1),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def before_0018(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:
    """An empty database of each backend at revision 0017."""
    with database_at(request.param, tmp_path, "0017") as database:
        yield database


def _day_rows(database: Database) -> list[tuple]:
    with database.engine.connect() as conn:
        return sorted(
            tuple(r)
            for r in conn.execute(
                text("SELECT authority_code, month, pair, days, count FROM funnel_month_duration")
            )
        )


def test_the_day_rows_are_packed_and_unpacked_again(before_0018: Database) -> None:
    with before_0018.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO funnel_month_duration (authority_code, month, pair, days, count) "
                "VALUES (:a, :m, :p, :d, :c)"
            ),
            [dict(zip("ampdc", row, strict=True)) for row in DAY_ROWS],
        )
    schema.upgrade(before_0018)
    with before_0018.read_session() as session:
        packed = {
            (h.authority_code, h.month, h.pair): (h.days, h.counts)
            for h in session.scalars(select(FunnelMonthHistogram))
        }
    assert packed == {
        ("E06000021", "2024-03", 0): ([1, 5], [1, 2]),
        ("E06000021", "2024-03", 2): ([30], [4]),
        ("E06000021", "2024-04", 0): ([0], [3]),
        ("E08000026", "2024-04", 0): ([7], [1]),
    }
    config = schema.alembic_config(before_0018)
    with before_0018.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0017")
    assert _day_rows(before_0018) == sorted(DAY_ROWS)
