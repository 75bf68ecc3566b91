"""The regional view and a page of the register read in a fixed number of queries (no N+1),
and every figure of a place follows one rule: the regional view gives each council exactly
the figures its capacity route gives, and the households add up to them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import event

from tests.conftest import COVENTRY, STOKE
from tracker.capacity import figures as capacity
from tracker.capacity import regional
from tracker.capacity import register as register_figures
from tracker.capacity.demand import record_children_in_care
from tracker.capacity.schemas import ChildrenInCareEntry
from tracker.core.access import SYSTEM
from tracker.core.db import Database
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import (
    HouseholdCareType,
    PlacementCategory,
    Term,
    UnavailableReason,
)
from tracker.households.placements import place_child
from tracker.households.queries import list_households
from tracker.households.schemas import NewHousehold, NewPlacement, NewUnavailability
from tracker.households.service import approve_household
from tracker.households.unavailability import mark_unavailable

TODAY = date(2024, 6, 30)
REGION = "West Midlands"


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def register(database: Database, code: str, prefix: str, n: int) -> None:
    """`n` households of mixed care types, terms and ethnicity, one child placed in each
    other household, and children-in-care figures."""
    with database.writing() as session:
        for i in range(n):
            record = approve_household(
                session,
                SYSTEM,
                code,
                NewHousehold(
                    reference=f"{prefix}-{i}",
                    care_type=(
                        HouseholdCareType.CONNECTED if i % 3 == 0 else HouseholdCareType.IN_HOUSE
                    ),
                    approved_places=1 + i % 3,
                    approved_on=date(2023, 1 + i % 12, 10),
                    age_min=i % 10,
                    age_max=10 + i % 8,
                    terms=[Term.LONG_TERM] if i % 2 else [Term.SHORT_TERM, Term.EMERGENCY],
                    carers_ethnicity=Ethnicity.WHITE_BRITISH if i % 4 else Ethnicity.ASIAN_INDIAN,
                ),
                TODAY,
            )
            if i % 2 == 0:
                place_child(
                    session,
                    SYSTEM,
                    code,
                    record.id,
                    NewPlacement(child_ref=f"{prefix}-C{i}", start_on=date(2024, 2, 1)),
                    TODAY,
                )
        counts = {PlacementCategory.IN_HOUSE_FOSTER: 10 + n, PlacementCategory.IFA_FOSTER: 2 * n}
        record_children_in_care(session, code, ChildrenInCareEntry(as_at=TODAY, counts=counts))


def test_the_regional_view_costs_the_same_queries_however_many_registers(authorities):
    register(authorities, STOKE, "S", 7)
    with authorities.read_session() as session, statements(authorities) as one_register:
        regional.regional_capacity(session, REGION, TODAY)
    register(authorities, COVENTRY, "C", 5)
    with authorities.read_session() as session, statements(authorities) as two_registers:
        view = regional.regional_capacity(session, REGION, TODAY)
    assert {a.code: a.source for a in view.authorities} == {STOKE: "register", COVENTRY: "register"}
    assert len(two_registers) == len(one_register)


def test_each_council_in_the_view_has_its_own_capacity_figures(authorities):
    register(authorities, STOKE, "S", 7)
    register(authorities, COVENTRY, "C", 5)
    with authorities.read_session() as session:
        view = regional.regional_capacity(session, REGION, TODAY)
        for shown in view.authorities:
            own = capacity.capacity_figures(session, shown.code, TODAY)
            expected = [*own.by_care_type, own.total]
            assert [r.care_type for r in shown.rows] == [c.care_type for c in expected]
            for row, counts in zip(shown.rows, expected, strict=True):
                assert (row.households, row.approved_places, row.filled_places) == (
                    counts.households,
                    counts.approved_places,
                    counts.filled_places,
                )
                assert (row.vacant_places, row.unavailable_places, row.occupancy) == (
                    counts.vacant_places,
                    counts.unavailable_places,
                    counts.occupancy,
                )
            assert shown.by_term == own.by_term
            assert shown.vacancies_by_age_band == own.vacancies_by_age_band
            assert shown.children_in_care == own.children_in_care_total
            assert shown.capacity_share_of_demand == own.capacity_share_of_demand
            assert shown.carers_ethnicity == register_figures.carers_ethnicity(
                session, shown.code, TODAY
            )
    stoke, coventry = (next(a for a in view.authorities if a.code == c) for c in (STOKE, COVENTRY))
    # The two councils' figures are not mixed up: 7 and 5 households, 4 and 3 placed.
    assert (stoke.rows[-1].households, coventry.rows[-1].households) == (7, 5)
    assert (stoke.rows[-1].filled_places, coventry.rows[-1].filled_places) == (4, 3)
    assert (stoke.children_in_care, coventry.children_in_care) == (17 + 14, 15 + 10)


def test_a_page_of_the_register_costs_the_same_queries_however_many_households(authorities):
    register(authorities, STOKE, "S", 3)
    with authorities.read_session() as session, statements(authorities) as three:
        small = list_households(session, STOKE, TODAY, limit=100, offset=0)
    register(authorities, STOKE, "T", 12)
    with authorities.read_session() as session, statements(authorities) as fifteen:
        large = list_households(session, STOKE, TODAY, limit=100, offset=0)
    assert (small.total, large.total) == (3, 15)
    assert len(fifteen) == len(three)


def test_the_register_and_capacity_agree_on_every_place(authorities):
    """One vacancy rule: the households' own figures add up to the capacity figures."""
    register(authorities, STOKE, "S", 9)
    with authorities.writing() as session:
        items = list_households(session, STOKE, TODAY, limit=100, offset=0).items
        two_free = next(h for h in items if h.reference == "S-1")  # 2 places, none filled
        mark_unavailable(
            session,
            SYSTEM,
            STOKE,
            two_free.id,
            NewUnavailability(
                places=1, reason=UnavailableReason.CARER_CIRCUMSTANCES, start_on=TODAY
            ),
            TODAY,
        )
    with authorities.read_session() as session:
        page = list_households(session, STOKE, TODAY, limit=100, offset=0)
        total = capacity.capacity_figures(session, STOKE, TODAY).total
    assert sum(h.approved_places for h in page.items) == total.approved_places
    assert sum(h.filled_places for h in page.items) == total.filled_places
    assert sum(h.unavailable_places for h in page.items) == total.unavailable_places == 1
    assert sum(h.vacant_places for h in page.items) == total.vacant_places
