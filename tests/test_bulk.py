"""Bulk inserts (tracker.core.bulk): COPY on PostgreSQL, executemany elsewhere, the same rows
either way; and the national load through COPY stores exactly what the ordinary path does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    cast,
    event,
    func,
    select,
    text,
)

from demo.national import generate_national
from tests.conftest import STOKE, _empty
from tracker.capacity.tables import ChildrenInCareFigure
from tracker.core.bulk import insert_rows, insert_rows_returning_ids
from tracker.core.db import Database
from tracker.households.tables import Household
from tracker.tables import metadata

TODAY = date(2026, 12, 4)
# Rutland: 15 enquiries a year in 2018-19 (25 in the national set), and a register with
# placements and unavailable places.
SMALL = "E06000017"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@contextmanager
def _inserts(database: Database) -> Iterator[list[str]]:
    """The INSERT statements SQLAlchemy sends while the block runs (COPY bypasses them)."""
    seen: list[str] = []

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            seen.append(statement.split("(", 1)[0].strip())

    event.listen(database.engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", _record)


@pytest.mark.parametrize("copy", [True, False])
def test_rows_stored_as_given_with_defaults_nulls_and_ids_in_order(
    authorities: Database, copy: bool
) -> None:
    homes = [
        {"authority_code": STOKE, "reference": f"H-{n}", "approved_on": date(2020, 1, n),
         "carers_age_bands": bands, "carers": None, "created_at": AT, "updated_at": AT}
        for n, bands in ((3, ["30_34", "35_39"]), (1, None), (2, ["60_64"]))
    ]  # fmt: skip
    figures = [
        {"authority_code": STOKE, "as_at": date(2026, 3, 31), "category": "foster", "children": 7}
    ]
    with authorities.writing() as session:
        before = datetime.now(UTC)
        ids = insert_rows_returning_ids(session, Household, homes, copy=copy)
        insert_rows(session, ChildrenInCareFigure, figures, copy=copy)
        insert_rows(session, ChildrenInCareFigure, [], copy=copy)
    assert len(ids) == 3 and ids == sorted(ids)
    with authorities.read_session() as session:
        stored = {h.reference: h for h in session.scalars(select(Household))}
        figure = session.scalars(select(ChildrenInCareFigure)).one()
        json_null = session.scalar(
            text("SELECT count(*) FROM household WHERE carers_age_bands IS NOT NULL")
        )
    assert [stored[f"H-{n}"].id for n in (3, 1, 2)] == ids
    assert stored["H-3"].carers_age_bands == ["30_34", "35_39"]
    assert stored["H-1"].carers_age_bands is None
    assert json_null == 3  # None in a JSON column is JSON null, as SQLAlchemy's INSERT stores it
    assert stored["H-2"].carers is None and stored["H-2"].version == 1  # the Python default
    assert stored["H-2"].approved_on == date(2020, 1, 2)
    assert stored["H-2"].created_at.astimezone(UTC) == AT
    assert (figure.children, figure.source) == (7, "entered")
    assert figure.recorded_at.astimezone(UTC) >= before.replace(microsecond=0)


def test_an_unknown_column_is_refused(authorities: Database) -> None:
    row = {"authority_code": STOKE, "as_at": date(2026, 3, 31), "category": "foster",
           "children": 7, "colour": "red"}  # fmt: skip
    with pytest.raises(ValueError, match="no column colour"), authorities.writing() as session:
        insert_rows(session, ChildrenInCareFigure, [row])


# What must differ between two loads: when the council was added and the load audited.
CLOCKED = {"authority": {"created_at"}, "audit_entry": {"at"}}


def test_copy_refuses_a_column_whose_default_is_sql(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("COPY is PostgreSQL's")
    stamped = Table(
        "bulk_test_stamped",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime(timezone=True), default=func.now(), nullable=False),
    )
    stamped.create(db.engine)
    try:
        with pytest.raises(ValueError, match="SQL default"), db.writing() as session:
            insert_rows(session, stamped, [{"id": 1}])
        with db.writing() as session:  # SQLAlchemy's INSERT gives it
            insert_rows(session, stamped, [{"id": 1}], copy=False)
    finally:
        stamped.drop(db.engine)


def _contents(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in primary key order as PostgreSQL's text of each value (so SQL
    NULL and JSON null differ), without the clocked columns."""
    with database.read_session() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(
                    select(
                        *(
                            cast(c, Text)
                            for c in table.columns
                            if c.name not in CLOCKED.get(table.name, ())
                        )
                    ).order_by(*table.primary_key.columns)
                )
            ]
            for table in metadata.sorted_tables
        }


def test_national_council_by_copy_stores_the_ordinary_paths_rows(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("COPY is PostgreSQL's; SQLite has only the ordinary path")
    ordinary = generate_national(db, today=TODAY, years=5, codes=[SMALL], copy=False)
    expected = _contents(db)
    _empty(db)  # and the sequences restart, so the ids are comparable
    with _inserts(db) as inserts:
        copied = generate_national(db, today=TODAY, years=5, codes=[SMALL])
    stored = _contents(db)

    assert [c.code for c in copied.loaded] == [SMALL]
    assert copied.loaded[0].enquiries == ordinary.loaded[0].enquiries > 50
    assert copied.loaded[0].placements == ordinary.loaded[0].placements > 0
    # Only the council, its approvals target (kept with its date), its audit entry and its
    # revision are INSERTed; the generated rows by COPY.
    assert sorted(inserts) == [
        "INSERT INTO approvals_target_setting",
        "INSERT INTO audit_entry",
        "INSERT INTO authority",
        "INSERT INTO council_revision",  # its revision, moved at commit
    ]
    for table in metadata.sorted_tables:
        assert stored[table.name] == expected[table.name], table.name
    for table in ("enquiry", "enquiry_event", "household", "household_version", "placement",
                  "place_unavailability", "children_in_care_figure"):  # fmt: skip
        assert stored[table], table
