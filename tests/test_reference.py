"""Tests for the shipped reference dataset (``tracker.reference``).

Expected values were checked by hand against the raw Ofsted and DfE CSVs in shared/data.
"""

from __future__ import annotations

import csv
from importlib import resources

import msgspec
import pytest

from tracker.reference import (
    ENGLAND_CODE,
    AuthorityFigures,
    england,
    find_by_name,
    load_reference,
)

STOKE = "E06000021"
COVENTRY = "E08000026"
OFSTED_FIELDS = (
    "enquiries",
    "applications",
    "applications_approved",
    "applications_withdrawn_by_applicant",
    "applications_withdrawn_by_service",
    "applications_rejected_at_panel",
    "applications_in_progress",
    "households",
    "approved_places",
    "filled_places",
    "vacant_places",
    "unavailable_places",
    "households_approved_in_year",
    "households_deregistered",
)


def test_csv_header_matches_struct_fields() -> None:
    text = resources.files("tracker.reference").joinpath("authorities.csv").read_text("utf-8")
    header = next(csv.reader(text.splitlines()))
    assert tuple(header) == AuthorityFigures.__struct_fields__


def test_one_row_per_la_plus_england() -> None:
    figures = load_reference()
    assert ENGLAND_CODE in figures
    assert 152 <= len(figures) - 1 <= 155
    assert all(
        code.startswith(("E06", "E08", "E09", "E10")) for code in figures if code != ENGLAND_CODE
    )
    assert load_reference() is figures  # cached


def test_stoke_on_trent_ofsted_2018_19() -> None:
    stoke = load_reference()[STOKE]
    assert stoke.name == "Stoke-on-Trent"
    assert stoke.region == "West Midlands"
    assert stoke.ofsted_year == 2019
    assert stoke.households == 270
    assert stoke.approved_places == 420
    assert stoke.filled_places == 335
    assert stoke.vacant_places == 45
    assert stoke.unavailable_places == 40
    assert stoke.enquiries == 100
    assert stoke.applications == 25
    assert stoke.applications_approved == 5
    assert stoke.households_approved_in_year == 50
    assert stoke.households_deregistered == 40


def test_stoke_on_trent_dfe() -> None:
    stoke = load_reference()[STOKE]
    assert stoke.children_in_foster_care_2019 == 603
    assert (stoke.cla_year, stoke.children_in_care, stoke.starters) == (2025, 1063, 178)
    assert stoke.staying_put_year == 2024
    assert (stoke.staying_put_stayed, stoke.staying_put_eligible) == (16, 29)


def test_coventry() -> None:
    coventry = load_reference()[COVENTRY]
    assert coventry.enquiries == 815
    assert coventry.applications == 155
    assert coventry.households == 245
    assert coventry.children_in_foster_care_2019 == 497
    assert (coventry.children_in_care, coventry.starters) == (684, 282)


@pytest.mark.parametrize(
    "name",
    [
        "Birmingham",
        "Sandwell",
        "City of London",
        "Isles of Scilly",
        "Hammersmith and Fulham",
        "Kensington and Chelsea",
        "Westminster",
    ],
)
def test_ofsted_no_figure_is_empty_not_zero(name: str) -> None:
    item = find_by_name(name)
    assert item is not None
    assert all(getattr(item, field) is None for field in OFSTED_FIELDS)


def test_birmingham_dfe_figures_still_present() -> None:
    birmingham = find_by_name("Birmingham")
    assert birmingham is not None
    assert birmingham.children_in_foster_care_2019 == 1323


def test_real_zero_is_kept() -> None:
    # Stoke's 2018-19 applications withdrawn by the service and rejected at panel are 0.
    stoke = load_reference()[STOKE]
    assert stoke.applications_withdrawn_by_service == 0
    assert stoke.applications_rejected_at_panel == 0


def test_suppressed_dfe_values_are_empty() -> None:
    city = find_by_name("City of London")
    assert city is not None
    assert city.cla_year == 2025
    assert city.children_in_care is None  # "c" in the 2025 release
    assert city.starters == 15
    herefordshire = find_by_name("Herefordshire, County of")
    assert herefordshire is not None
    assert herefordshire.staying_put_eligible == 11
    assert herefordshire.staying_put_stayed is None  # "c"


def test_england_covers_all_services() -> None:
    eng = england()
    assert eng.code == ENGLAND_CODE
    assert eng.region is None
    assert eng.households == 44_450  # LA + IFA; LA sector alone is about 28,630
    assert eng.enquiries == 127_850
    assert eng.filled_places == 54_870
    assert eng.households_approved_in_year == 8_400
    assert (eng.cla_year, eng.children_in_care, eng.starters) == (2025, 81_770, 32_270)
    assert (eng.staying_put_stayed, eng.staying_put_eligible) == (2_270, 3_650)
    la_households = sum(
        item.households or 0 for code, item in load_reference().items() if code != ENGLAND_CODE
    )
    assert la_households < eng.households


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("County Durham", "E06000047"),
        ("Bristol, City of", "E06000023"),
        ("Kingston upon Hull, City of", "E06000010"),
        ("St. Helens", "E08000013"),
        ("Bedford", "E06000055"),
        ("Richmond upon Thames", "E09000027"),
        ("Herefordshire, County of", "E06000019"),
    ],
)
def test_ofsted_name_differences_are_joined(name: str, code: str) -> None:
    item = load_reference()[code]
    assert item.name == name
    assert item.ofsted_year == 2019
    assert item.households is not None


def test_recoded_unitaries_keep_2019_figures() -> None:
    # Same area, new ONS code: North Yorkshire (2023), Buckinghamshire (2020), Somerset (2023).
    for code in ("E06000065", "E06000060", "E06000066"):
        item = load_reference()[code]
        assert item.households is not None
        assert item.children_in_foster_care_2019 is not None


def test_boundary_changed_las_have_no_2019_figures() -> None:
    for name in ("Bournemouth, Christchurch and Poole", "Dorset", "Cumberland"):
        item = find_by_name(name)
        assert item is not None
        assert item.ofsted_year is None
        assert item.households is None
        assert item.children_in_foster_care_2019 is None


def test_abolished_las_report_their_last_year() -> None:
    cumbria = load_reference()["E10000006"]
    assert (cumbria.cla_year, cumbria.staying_put_year) == (2023, 2023)
    northants = load_reference()["E10000021"]
    assert (northants.cla_year, northants.staying_put_year) == (2021, 2021)


def test_find_by_name_is_case_insensitive_exact() -> None:
    assert find_by_name("stoke-on-trent") == load_reference()[STOKE]
    assert find_by_name("ENGLAND") == england()
    assert find_by_name("Stoke") is None


def test_struct_is_frozen() -> None:
    with pytest.raises(AttributeError):
        england().households = 0  # type: ignore[misc]
    assert msgspec.to_builtins(england())["code"] == ENGLAND_CODE
