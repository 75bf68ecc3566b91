"""The Ofsted collection files: one per year, each consistent with the service's codes, and
differing from the year before exactly where Ofsted changed the collection."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from tracker.core.errors import NotFoundError
from tracker.enquiries.stages import WithdrawalReason
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import (
    CarerAgeBand,
    DeregistrationReason,
    HouseholdCareType,
    UnavailableReason,
)
from tracker.ofsted.collections import (
    Collection,
    changes_between,
    check_collection,
    collection_years,
    default_year,
    load_collection,
)
from tracker.ofsted.figures import MEASURES

YEARS = collection_years()


def codes(collection: Collection, measure: str) -> set[str | None]:
    return {f.code for f in collection.produced() if f.measure == measure}


def test_the_latest_year_and_the_two_before_are_shipped() -> None:
    assert YEARS == ["2023-24", "2024-25", "2025-26"]


@pytest.mark.parametrize("year", YEARS)
def test_a_collection_names_only_measures_and_codes_the_service_has(year: str) -> None:
    collection = load_collection(year)
    types = {t.key for t in collection.household_types}

    assert {f.measure for f in collection.fields} <= set(MEASURES)
    assert codes(collection, "withdrawn") == {r.value for r in WithdrawalReason}
    assert codes(collection, "unavailable_by_reason") == {r.value for r in UnavailableReason}
    assert set(collection.deregistration_reasons) == {r.value for r in DeregistrationReason}
    assert set(collection.deregistration_reasons.values()) <= codes(collection, "deregistered")
    assert codes(collection, "households") - {None} <= types
    assert codes(collection, "places_of_type") <= types
    assert set(collection.fostering_care_types) <= {t.value for t in HouseholdCareType}
    assert set(collection.ethnic_groups) == {e.group for e in Ethnicity}


@pytest.mark.parametrize("year", ["2024-25", "2025-26"])
def test_aggregate_carers_sections_count_every_band_and_group_once(year: str) -> None:
    collection = load_collection(year)

    assert codes(collection, "carers_by_age") == {b.value for b in CarerAgeBand} | {"not_known"}
    assert codes(collection, "carers_by_ethnicity") == set(collection.ethnic_groups.values()) | {
        "not_known"
    }
    assert codes(collection, "carers_by_disability") == {"yes", "no", "unknown"}


def test_2024_25_differs_from_2023_24_where_ofsted_changed_the_collection() -> None:
    """Ofsted's annual changes page: from 2024-25 carers' characteristics are aggregate counts
    of approved carers at 31 March, in an optional section (2023-24 collected them carer by
    carer); the way initial enquiries are collected changed."""
    changes = changes_between(load_collection("2023-24"), load_collection("2024-25"))
    changed = {c.item: c.what for c in changes if c.kind == "changed"}
    added = {c.item for c in changes if c.kind == "added"}

    assert changed == {
        "section:carers": ["title", "level", "required", "note"],
        "field:initial_enquiries": ["definition", "sources"],
    }
    assert added == {"field:approved_carers"} | {
        f"field:{f.key}" for f in load_collection("2024-25").fields if f.key.startswith("carers_")
    }
    assert not [c for c in changes if c.kind == "removed"]
    assert load_collection("2023-24").section("carers").level == "carer"
    assert load_collection("2024-25").section("carers").level == "aggregate"


def test_2025_26_carries_2024_25_unchanged_as_far_as_the_sources_say() -> None:
    later = load_collection("2025-26")

    assert changes_between(load_collection("2024-25"), later) == []
    assert (later.period_start, later.period_end) == (date(2025, 4, 1), date(2026, 3, 31))


def test_a_year_with_no_collection_is_not_found_naming_the_year() -> None:
    with pytest.raises(NotFoundError) as refused:
        load_collection("2019-20")

    assert refused.value.field == "year"
    assert "2023-24, 2024-25, 2025-26" in refused.value.message


@pytest.mark.parametrize(
    "broken",
    [
        {"period_end": date(2026, 4, 30)},
        {"year": "2026-27"},
        {"fields": [msgspec.structs.replace(load_collection("2025-26").fields[0], section="x")]},
    ],
    ids=["period", "year", "unknown-section"],
)
def test_a_collection_file_that_contradicts_itself_is_refused(broken: dict) -> None:
    collection = msgspec.structs.replace(load_collection("2025-26"), **broken)

    with pytest.raises(ValueError):
        check_collection(collection, "2025-26")


@pytest.mark.parametrize(
    ("today", "year"),
    [(date(2026, 12, 4), "2025-26"), (date(2025, 6, 1), "2024-25"), (date(2024, 1, 1), "2023-24")],
)
def test_the_default_year_is_the_latest_ended(today: date, year: str) -> None:
    assert default_year(today) == year
