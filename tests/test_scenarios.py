"""Sufficiency scenarios: the arithmetic against Stoke-on-Trent's Appendix 1 and section 7,
costs and savings worked by hand, validation naming fields, storage and comparison on SQLite
and PostgreSQL, inputs from SSDA903 figures, and the API with its role checks.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import select

from demo.plans import appendix1_inputs, stoke_planning_inputs
from tests.conftest import COVENTRY, STOKE, bearer
from tracker.capacity.demand import record_external_provision
from tracker.capacity.schemas import ExternalProvisionEntry
from tracker.children.importer import SourceFile, import_ssda903
from tracker.core.access import Caller, Role
from tracker.core.audit import AuditEntry
from tracker.core.db import Database
from tracker.core.errors import InvalidValueError, NotFoundError, VersionMismatchError
from tracker.households.care_types import ExternalProvision
from tracker.scenarios.from_actuals import scenario_inputs_from_actuals
from tracker.scenarios.projection import project, validate_new_inputs
from tracker.scenarios.schemas import CareMix, ChangeKind, ScenarioInputs, WeeklyCosts, YearChange
from tracker.scenarios.service import (
    compare_scenarios,
    create_scenario,
    delete_scenario,
    get_scenario,
    list_scenarios,
    update_scenario,
)

MANAGER = Caller(token_id=None, name="test-manager", role=Role.MANAGER, authority_code=STOKE)
replace = msgspec.structs.replace

# --- Appendix 1 of the Stoke-on-Trent 2023-28 strategy, transcribed -------------------------
# Per table (the yearly change in children in care) and year: total children in care; foster
# care, its in-house, connected and independent parts; children's homes, their in-house and
# independent parts; supported accommodation. The PDF text misplaces the year labels: the six
# blocks are 2023..2028 in order (their foster totals are 70% of 1,109, 1,087, ... 1,002) and
# the labels 2029-2031 (981, 960, 939 in the -2% table) have no block, so they are left out.
CELLS = (
    "total_children",
    "foster",
    "foster_inhouse",
    "foster_connected",
    "foster_independent",
    "childrens_homes",
    "homes_inhouse",
    "homes_independent",
    "supported_accommodation",
)
APPENDIX_1: dict[float, dict[int, tuple[int, ...]]] = {
    -2.0: {
        2023: (1109, 776, 211, 205, 360, 110, 24, 86, 55),
        2024: (1087, 761, 220, 201, 345, 108, 34, 77, 54),
        2025: (1065, 746, 220, 197, 329, 107, 38, 69, 53),
        2026: (1044, 731, 224, 193, 314, 104, 38, 66, 52),
        2027: (1023, 716, 228, 189, 298, 102, 38, 64, 51),
        2028: (1002, 701, 233, 185, 283, 99, 38, 61, 50),
    },
    0.0: {
        2023: (1109, 776, 211, 205, 360, 111, 24, 87, 55),
        2024: (1109, 776, 215, 205, 356, 111, 34, 77, 55),
        2025: (1109, 776, 220, 205, 351, 111, 38, 73, 55),
        2026: (1109, 776, 224, 205, 347, 111, 38, 73, 55),
        2027: (1109, 776, 228, 205, 343, 111, 38, 73, 55),
        2028: (1109, 776, 233, 205, 334, 111, 38, 73, 55),
    },
    2.0: {
        2023: (1094, 776, 211, 205, 360, 109, 24, 87, 55),
        2024: (1131, 791, 215, 213, 374, 112, 34, 79, 56),
        2025: (1153, 807, 220, 213, 374, 114, 38, 77, 57),
        2026: (1177, 823, 224, 217, 382, 116, 38, 80, 58),
        2027: (1200, 840, 228, 222, 390, 118, 38, 82, 59),
        2028: (1224, 857, 233, 226, 398, 121, 38, 84, 60),
    },
}
# Every cell where the seed and the engine differ: (table, year, cell) -> (seed, engine, why).
# 133 of the 162 cells agree. The +2% table's children's homes and supported accommodation
# totals follow 1,094 (its 2023 label typo) grown 2% a year: 0.10 x 1,094 x 1.02^k = 109.4,
# 111.6, 113.8, 116.1, 118.4, 120.8 and 0.05 x ... = 54.7, 55.8, 56.9, 58.0, 59.2, 60.4, while
# the in-house and independent parts below them add up to 10% of the 1,109 series.
TYPO = "typo per DOMAIN.md"
CH_1094 = "the seed's total follows its 1,094 label typo; its own parts add up to"
SA_1094 = "the seed follows its 1,094 label typo (0.05 x 1,094 x 1.02^k); 0.05 x"
SEED_DISCREPANCIES: dict[tuple[float, int, str], tuple[int, int, str]] = {
    (-2.0, 2023, "childrens_homes"): (
        110,
        111,
        "0.10 x 1,109 = 110.9; the no-change table has 111 = 24 + 87 for the same baseline",
    ),
    (-2.0, 2023, "homes_independent"): (86, 87, "follows the seed's 110 above; 111 - 24 = 87"),
    (-2.0, 2024, "foster_inhouse"): (
        220,
        215,
        f"{TYPO}: 211 x 1.02 = 215.2; the row's 345 = 761 - 215 - 201",
    ),
    (-2.0, 2024, "childrens_homes"): (
        108,
        109,
        "0.10 x 1,087 = 108.7; the seed's parts 34 + 77 = 111 do not add up to 108",
    ),
    (-2.0, 2024, "homes_independent"): (
        77,
        75,
        "109 - 34 = 75; the seed's 77 is the no-change table's cell",
    ),
    (-2.0, 2027, "foster_independent"): (
        298,
        299,
        "parts do not add up in the seed: 716 - 228 - 189 = 299",
    ),
    (-2.0, 2028, "childrens_homes"): (99, 100, "0.10 x 1,002 = 100.2"),
    (-2.0, 2028, "homes_independent"): (61, 62, "100 - 38 = 62 (the seed's 61 follows its 99)"),
    (0.0, 2028, "foster_independent"): (
        334,
        338,
        "parts do not add up in the seed: 776 - 233 - 205 = 338",
    ),
    (2.0, 2023, "total_children"): (
        1094,
        1109,
        "label typo: the row's foster 776 is 70% of 1,109, the baseline of the other tables",
    ),
    (2.0, 2023, "childrens_homes"): (109, 111, f"{CH_1094} 24 + 87 = 111"),
    (2.0, 2024, "foster"): (791, 792, "0.70 x 1,131 = 791.7, rounded down in the seed"),
    (2.0, 2024, "foster_connected"): (
        213,
        209,
        "205 x 1,131 / 1,109 = 209.1; the seed repeats the 2025 cell "
        "(its parts add up to 802, not 791)",
    ),
    (2.0, 2024, "foster_independent"): (
        374,
        368,
        "792 - 215 - 209 = 368; the seed repeats the 2025 cell",
    ),
    (2.0, 2024, "childrens_homes"): (112, 113, f"{CH_1094} 34 + 79 = 113"),
    (2.0, 2024, "supported_accommodation"): (56, 57, f"{SA_1094} 1,131 = 56.55"),
    (2.0, 2025, "total_children"): (
        1153,
        1154,
        "1,109 x 1.02^2 = 1,153.8, rounded down in the seed",
    ),
    (2.0, 2025, "foster"): (807, 808, "0.70 x 1,154 = 807.8 (the seed's 807 follows its 1,153)"),
    (2.0, 2025, "foster_independent"): (
        374,
        375,
        "808 - 220 - 213 = 375 (follows the foster total)",
    ),
    (2.0, 2025, "childrens_homes"): (114, 115, f"{CH_1094} 38 + 77 = 115"),
    (2.0, 2025, "supported_accommodation"): (57, 58, f"{SA_1094} 1,154 = 57.7"),
    (2.0, 2026, "foster"): (823, 824, "0.70 x 1,177 = 823.9, rounded down in the seed"),
    (2.0, 2026, "foster_connected"): (
        217,
        218,
        "205 x 1,177 / 1,109 = 217.6, rounded down in the seed",
    ),
    (2.0, 2026, "childrens_homes"): (116, 118, f"{CH_1094} 38 + 80 = 118"),
    (2.0, 2026, "supported_accommodation"): (58, 59, f"{SA_1094} 1,177 = 58.85"),
    (2.0, 2027, "childrens_homes"): (118, 120, f"{CH_1094} 38 + 82 = 120"),
    (2.0, 2027, "supported_accommodation"): (59, 60, f"{SA_1094} 1,200 = 60"),
    (2.0, 2028, "childrens_homes"): (121, 122, f"{CH_1094} 38 + 84 = 122"),
    (2.0, 2028, "supported_accommodation"): (60, 61, f"{SA_1094} 1,224 = 61.2"),
}


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("change", [-2.0, 0.0, 2.0])
def test_appendix_1_tables_match_the_seed_except_its_documented_discrepancies(
    change: float,
) -> None:
    rows = {row.year: row for row in project(appendix1_inputs(change)).rows}
    assert sorted(rows) == sorted(APPENDIX_1[change])
    differences = {
        (change, year, cell): (seed, getattr(rows[year], cell))
        for year, values in APPENDIX_1[change].items()
        for cell, seed in zip(CELLS, values, strict=True)
        if getattr(rows[year], cell) != seed
    }
    documented = {
        key: (seed, engine)
        for key, (seed, engine, _) in SEED_DISCREPANCIES.items()
        if key[0] == change
    }
    assert differences == documented


def test_the_seed_discrepancies_are_few_and_each_has_a_reason() -> None:
    assert len(SEED_DISCREPANCIES) == 29
    assert sum(1 for key in SEED_DISCREPANCIES if key[0] == 2.0) == 20
    assert all(len(why) > 10 for _, _, why in SEED_DISCREPANCIES.values())


def test_totals_compound_from_the_unrounded_baseline() -> None:
    totals = [row.total_children for row in project(appendix1_inputs(-2.0)).rows]
    # 1,109 x 0.98^5 = 1,002.44; rounding every year would reach 1,023 x 0.98 = 1,002.54 -> 1,003.
    assert totals == [1109, 1087, 1065, 1044, 1023, 1002]


def test_shares_round_half_up_from_the_rounded_total() -> None:
    row_2025 = project(appendix1_inputs(-2.0)).rows[2]
    # 0.10 x 1,065 = 106.5 -> 107 (the seed's figure; Python's round() gives 106).
    assert row_2025.childrens_homes == 107 and round(106.5) == 106
    # 0.70 x 1,065 = 745.5 -> 746.
    assert row_2025.foster == 746
    # 2028: 70% of the rounded 1,002 is 701.4 -> 701 as the seed has; of 1,002.44 it is 702.
    assert project(appendix1_inputs(-2.0)).rows[5].foster == 701


def test_section_7_planning_path_is_150_fewer_over_two_years_then_2_percent_fewer() -> None:
    rows = project(stoke_planning_inputs()).rows
    # 1,109 - 75 = 1,034; - 75 = 959; x 0.98 = 939.82; 921.02; 902.60.
    assert [r.total_children for r in rows] == [1109, 1034, 959, 940, 921, 903]
    # Foster 70% and connected in proportion: 0.7 x 959 = 671.3; 205 x 959 / 1,109 = 177.3.
    assert (rows[2].foster, rows[2].foster_connected, rows[2].foster_inhouse) == (671, 177, 220)
    assert rows[2].foster_independent == 671 - 177 - 220


def test_a_path_shorter_than_the_years_repeats_its_last_step() -> None:
    steps = [YearChange(kind=ChangeKind.PERCENT, value=-2.0)]
    as_path = replace(appendix1_inputs(-2.0), change_percent=None, changes=steps)
    assert project(as_path).rows == project(appendix1_inputs(-2.0)).rows


def test_baseline_costs_worked_by_hand() -> None:
    row = project(appendix1_inputs(-2.0)).rows[0]
    weekly = {
        "inhouse_foster": Decimal("211") * Decimal("414.12"),  # 87,379.32
        "connected_foster": Decimal("205") * Decimal("344.92"),  # 70,708.60
        "ifa_foster": Decimal("360") * Decimal("854.18"),  # 307,504.80
        "inhouse_childrens_home": Decimal("24") * Decimal("5231"),  # 125,544.00
        "private_childrens_home": Decimal("87") * Decimal("5045.64"),  # 438,970.68
        "supported_accommodation": Decimal("55") * Decimal("1190.13"),  # 65,457.15
    }
    for care_type, cost in weekly.items():
        assert getattr(row.weekly_cost, care_type) == _money(cost)
        assert getattr(row.annual_cost, care_type) == _money(cost * 52)
    assert row.weekly_cost.total == 1_095_564.55
    assert row.annual_cost.total == 56_969_356.60  # 1,095,564.55 x 52
    assert row.saving == 0.0


def test_saving_is_in_house_growth_priced_at_the_ifa_difference() -> None:
    projection = project(appendix1_inputs(-2.0))
    # (IFA 854.18 - in-house 414.12) x 52 weeks = 22,883.12 a year per child.
    assert [r.saving for r in projection.rows] == [
        0.0,
        91_532.48,  # (215 - 211) x 22,883.12
        205_948.08,  # 9 x
        297_480.56,  # 13 x
        389_013.04,  # 17 x
        503_428.64,  # 22 x
    ]
    assert projection.total_saving == 1_487_402.80  # 65 x 22,883.12


def test_weeks_per_year_and_costs_are_the_inputs_given() -> None:
    costs = WeeklyCosts(inhouse_foster=400, ifa_foster=900)
    inputs = replace(appendix1_inputs(0.0), weekly_costs=costs, weeks_per_year=52.143)
    row = project(inputs).rows[1]
    assert row.annual_cost.ifa_foster == _money(Decimal(356 * 900) * Decimal("52.143"))
    assert row.saving == _money(Decimal(4 * 500) * Decimal("52.143"))


def test_own_places_beyond_the_need_are_shown_as_spare_not_hidden() -> None:
    inputs = ScenarioInputs(
        name="halving",
        baseline_year=2023,
        baseline_children=100,
        years=1,
        change_percent=-50.0,
        inhouse_foster_baseline=60,
        connected_baseline=10,
        inhouse_home_places_baseline=4,
    )
    base, year = project(inputs).rows
    assert (base.foster, base.foster_independent, base.foster_inhouse_spare) == (70, 0, 0)
    # 2024: 50 children, foster 35, connected 5, in-house 60 x 1.02 = 61.2 -> 61: 30 used.
    assert (year.foster, year.foster_connected, year.foster_inhouse) == (35, 5, 61)
    assert (year.foster_independent, year.foster_inhouse_spare) == (0, 31)
    # Children's homes 0.10 x 50 = 5 against 4 in-house places; at the baseline 10 need 6 more.
    assert (base.homes_independent, year.homes_independent, year.homes_inhouse_spare) == (6, 1, 0)
    assert any("31 in-house foster places beyond the need" in n for n in year.notes)
    assert year.weekly_cost.inhouse_foster == _money(Decimal(30) * Decimal("414.12"))
    assert year.saving == 0.0  # the grown places are not needed: nothing is saved


def _bad(**changes: Any) -> ScenarioInputs:
    return replace(appendix1_inputs(-2.0), **changes)


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        (_bad(name="  "), "name"),
        (_bad(name="nul\x00"), "name"),
        (_bad(baseline_children=-1), "baseline_children"),
        (_bad(years=0), "years"),
        (_bad(years=16), "years"),
        (_bad(change_percent=None), "change_percent"),
        (_bad(changes=[YearChange(kind=ChangeKind.PERCENT, value=1)]), "changes"),
        (_bad(change_percent=float("nan")), "change_percent"),
        (_bad(change_percent=-100.0), "change_percent"),
        (
            _bad(
                change_percent=None,
                changes=[YearChange(kind=ChangeKind.PERCENT, value=1)] * 6,
            ),
            "changes",
        ),
        (
            _bad(
                change_percent=None,
                changes=[
                    YearChange(kind=ChangeKind.ABSOLUTE, value=-75),
                    YearChange(kind=ChangeKind.PERCENT, value=-120),
                ],
            ),
            "changes[1].value",
        ),
        (
            _bad(
                change_percent=None,
                changes=[YearChange(kind=ChangeKind.ABSOLUTE, value=-600)],
            ),
            "changes[0].value",
        ),
        (_bad(care_mix=CareMix(foster=1.2)), "care_mix.foster"),
        (_bad(care_mix=CareMix(supported_accommodation=-0.1)), "care_mix.supported_accommodation"),
        (_bad(care_mix=CareMix(foster=0.85, childrens_homes=0.15)), "care_mix"),
        (_bad(connected_baseline=2000), "connected_baseline"),
        (_bad(inhouse_growth_percent=float("inf")), "inhouse_growth_percent"),
        (_bad(inhouse_home_additions={"2030": 2}), "inhouse_home_additions.2030"),
        (_bad(inhouse_home_additions={"2023": 2}), "inhouse_home_additions.2023"),
        (_bad(inhouse_home_additions={"24/25": 2}), "inhouse_home_additions.24/25"),
        (_bad(inhouse_home_additions={"2024": -30}), "inhouse_home_additions.2024"),
        (_bad(weekly_costs=WeeklyCosts(ifa_foster=-1)), "weekly_costs.ifa_foster"),
        (_bad(weeks_per_year=0), "weeks_per_year"),
    ],
)
def test_unusable_inputs_are_refused_naming_the_field(inputs: ScenarioInputs, field: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        project(inputs)
    assert refused.value.field == field


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    children=st.integers(0, 5000),
    change=st.floats(-30, 30),
    foster=st.floats(0, 0.8),
    homes=st.floats(0, 0.1),
    inhouse_share=st.floats(0, 1),
    connected_share=st.floats(0, 1),
    places=st.integers(0, 60),
)
def test_every_row_adds_up(
    children: int,
    change: float,
    foster: float,
    homes: float,
    inhouse_share: float,
    connected_share: float,
    places: int,
) -> None:
    inputs = ScenarioInputs(
        name="random",
        baseline_year=2023,
        baseline_children=children,
        change_percent=change,
        care_mix=CareMix(foster=foster, childrens_homes=homes, supported_accommodation=0.1),
        inhouse_foster_baseline=int(children * inhouse_share),
        connected_baseline=int(children * foster * connected_share),
        inhouse_home_places_baseline=places,
        inhouse_home_additions={"2025": 3},
    )
    for row in project(inputs).rows:
        assert min(row.foster_independent, row.homes_independent, row.other) >= 0
        assert row.foster + row.childrens_homes + row.supported_accommodation + row.other == (
            row.total_children
        )
        assert row.homes_inhouse - row.homes_inhouse_spare + row.homes_independent == (
            row.childrens_homes
        )
        if row.foster_connected <= row.foster:
            used = row.foster_inhouse - row.foster_inhouse_spare
            assert used + row.foster_connected + row.foster_independent == row.foster
        assert (row.foster_inhouse_spare > 0) == any("in-house foster" in n for n in row.notes)


# --- storage -----------------------------------------------------------------------------------


def test_scenarios_are_saved_read_replaced_and_deleted_with_names_only_audited(
    authorities: Database,
) -> None:
    with authorities.writing() as session, pytest.raises(InvalidValueError):
        create_scenario(session, MANAGER, STOKE, _bad(care_mix=CareMix(foster=2)))
    with authorities.writing() as session:
        created = create_scenario(session, MANAGER, STOKE, appendix1_inputs(-2.0))
    with authorities.read_session() as session:
        record = get_scenario(session, STOKE, created.id)
        assert record.inputs == appendix1_inputs(-2.0)
        assert record.projection.rows[5].total_children == 1002
        assert [s.name for s in list_scenarios(session, STOKE)] == ["Appendix 1: -2% a year"]
        assert list_scenarios(session, COVENTRY) == []
        with pytest.raises(NotFoundError):
            get_scenario(session, COVENTRY, created.id)
    changed = replace(appendix1_inputs(-2.0), inhouse_growth_percent=3.0, name="Faster growth")
    with authorities.writing() as session:
        updated = update_scenario(session, MANAGER, STOKE, created.id, changed, expected_version=1)
    assert updated.version == 2 and updated.name == "Faster growth"
    assert updated.projection.rows[1].foster_inhouse == 217  # 211 x 1.03 = 217.3
    with authorities.writing() as session, pytest.raises(VersionMismatchError):
        update_scenario(session, MANAGER, STOKE, created.id, changed, expected_version=1)
    with authorities.writing() as session:
        delete_scenario(session, MANAGER, STOKE, created.id, expected_version=2)
    with authorities.read_session() as session:
        with pytest.raises(NotFoundError):
            get_scenario(session, STOKE, created.id)
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "scenario").order_by(AuditEntry.id)
        ).all()
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert entries[1].detail == {"fields": ["inhouse_growth_percent", "name"]}
    assert "3.0" not in str([e.detail for e in entries])


def test_scenarios_compare_side_by_side(authorities: Database) -> None:
    with authorities.writing() as session:
        ids = [
            create_scenario(session, MANAGER, STOKE, inputs).id
            for inputs in (
                appendix1_inputs(-2.0),
                appendix1_inputs(2.0),
                stoke_planning_inputs(),
            )
        ]
        other = create_scenario(session, MANAGER, COVENTRY, appendix1_inputs(0.0)).id
    with authorities.read_session() as session:
        comparison = compare_scenarios(session, STOKE, [ids[2], ids[0], ids[1]])
        assert [s.id for s in comparison.scenarios] == [ids[2], ids[0], ids[1]]
        assert [y.year for y in comparison.years] == list(range(2023, 2029))
        last = comparison.years[-1].scenarios
        assert [c.total_children for c in last if c] == [903, 1002, 1224]
        assert comparison.total_saving[1] == 1_487_402.80
        refusals = (
            ([ids[0]], InvalidValueError),
            ([ids[0], ids[0]], InvalidValueError),
            ([ids[0], other], NotFoundError),
        )
        for ids_given, rule in refusals:
            with pytest.raises(rule) as refused:
                compare_scenarios(session, STOKE, ids_given)
            assert refused.value.field == "ids"


# --- from the authority's own figures -------------------------------------------------------

KEY = b"scenario-test-key"
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n" + "".join(
    f"C{n:02},1,01/01/2010,WBRI,A0000000{n:04}C,,\n" for n in range(1, 13)
)
COLUMNS = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
# In care on 31 March 2023: 4 in-house foster, 2 connected, 2 IFA, 1 children's home,
# 1 supported (H5), 1 placed with parents: 11. C12 left in February.
PLACEMENTS = {
    "C01": "U4,PR1",
    "C02": "U4,PR1",
    "C03": "U5,PR1",
    "C04": "U6,PR1",
    "C05": "U1,PR1",
    "C06": "U2,PR1",
    "C07": "U5,PR4",
    "C08": "U4,PR5",
    "C09": "K2,PR4",
    "C10": "H5,PR4",
    "C11": "P1,PR0",
}
EPISODES = (
    f"{COLUMNS}\n"
    + "".join(f"{c},01/06/2022,S,C2,N1,{p},,,,ST1 1,ST1 2,XXXXXXX\n" for c, p in PLACEMENTS.items())
    + "C12,01/06/2022,S,C2,N1,U4,PR1,01/02/2023,E13,,ST1 1,ST1 2,XXXXXXX\n"
)


def _import_903(database: Database) -> None:
    files = [
        SourceFile("header_2022-23.csv", HEADER.encode()),
        SourceFile("episodes_2022-23.csv", EPISODES.encode()),
    ]
    with database.writing() as session:
        import_ssda903(session, MANAGER, STOKE, files, KEY)


def test_inputs_from_actuals_start_at_the_latest_march_of_the_ssda903_figures(
    authorities: Database,
) -> None:
    _import_903(authorities)
    with authorities.writing() as session:
        entry = ExternalProvisionEntry(
            as_at=date(2023, 3, 1),
            provision=ExternalProvision.INHOUSE_CHILDRENS_HOME,
            places=8,
            used_by_authority=7,
        )
        record_external_provision(session, STOKE, entry)
    with authorities.read_session() as session:
        suggestion = scenario_inputs_from_actuals(session, STOKE, date(2023, 9, 30))
    inputs = suggestion.inputs
    assert (suggestion.source, suggestion.baseline_date) == ("ssda903", date(2023, 3, 31))
    assert (inputs.baseline_year, inputs.baseline_children) == (2023, 11)
    assert (inputs.inhouse_foster_baseline, inputs.connected_baseline) == (4, 2)
    assert inputs.inhouse_home_places_baseline == 8
    # Shares rounded down to 6 places: 8/11 = 0.727272..., 1/11 = 0.090909...
    assert inputs.care_mix == CareMix(
        foster=0.727272, childrens_homes=0.090909, supported_accommodation=0.090909
    )
    base = project(inputs).rows[0]
    assert (base.foster, base.childrens_homes, base.supported_accommodation, base.other) == (
        8,
        1,
        1,
        1,
    )
    assert base.foster_independent == 2  # the two IFA children
    assert base.homes_inhouse_spare == 7  # 8 places recorded, 1 child in a home


# --- API ---------------------------------------------------------------------------------------


def base_path(code: str = STOKE) -> str:
    return f"/api/v1/authorities/{code}/scenarios"


def as_json(inputs: ScenarioInputs) -> dict[str, Any]:
    return msgspec.to_builtins(inputs)


def test_api_saves_reads_replaces_compares_and_deletes(
    client: TestClient, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["manager_stoke"])
    created = client.post(base_path(), json=as_json(appendix1_inputs(-2.0)), headers=auth)
    assert created.status_code == 201, created.text
    scenario_id = created.json()["id"]
    assert created.headers["location"] == f"{base_path()}/{scenario_id}"
    assert created.headers["etag"] == '"1"'
    read = client.get(created.headers["location"], headers=auth)
    assert read.status_code == 200
    rows = read.json()["projection"]["rows"]
    assert [r["total_children"] for r in rows] == [1109, 1087, 1065, 1044, 1023, 1002]
    assert rows[0]["annual_cost"]["total"] == 56_969_356.60

    second = client.post(base_path(), json=as_json(stoke_planning_inputs()), headers=auth).json()
    listed = client.get(base_path(), headers=auth).json()
    assert [s["id"] for s in listed] == [scenario_id, second["id"]]
    compared = client.get(
        f"{base_path()}/compare", params={"ids": f"{second['id']},{scenario_id}"}, headers=auth
    )
    assert compared.status_code == 200, compared.text
    assert [c["total_children"] for c in compared.json()["years"][2]["scenarios"]] == [959, 1065]

    body = as_json(replace(appendix1_inputs(-2.0), years=3))
    no_match = client.put(f"{base_path()}/{scenario_id}", json=body, headers=auth)
    assert no_match.status_code == 428
    replaced = client.put(
        f"{base_path()}/{scenario_id}", json=body, headers={**auth, "If-Match": '"1"'}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["etag"] == '"2"'
    assert len(replaced.json()["projection"]["rows"]) == 4
    stale = client.put(
        f"{base_path()}/{scenario_id}", json=body, headers={**auth, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["field"] == "If-Match"

    gone = client.delete(f"{base_path()}/{scenario_id}", headers={**auth, "If-Match": '"2"'})
    assert gone.status_code == 204
    assert client.get(f"{base_path()}/{scenario_id}", headers=auth).status_code == 404


def test_api_preview_computes_without_saving(client: TestClient, tokens: dict[str, str]) -> None:
    auth = bearer(tokens["admin"])
    preview = client.post(
        f"{base_path()}/preview", json=as_json(stoke_planning_inputs()), headers=auth
    )
    assert preview.status_code == 200, preview.text
    assert [r["total_children"] for r in preview.json()["rows"]] == [1109, 1034, 959, 940, 921, 903]
    assert client.get(base_path(), headers=auth).json() == []


def test_api_from_actuals(
    client: TestClient, tokens: dict[str, str], authorities: Database
) -> None:
    auth = bearer(tokens["manager_stoke"])
    refused = client.get(
        f"{base_path()}/from-actuals", params={"as_at": "2023-06-30"}, headers=auth
    )
    assert refused.status_code == 409
    assert refused.json()["rule"] == "no_children_in_care_figures"
    assert "import the SSDA903" in refused.json()["detail"]
    _import_903(authorities)
    suggested = client.get(
        f"{base_path()}/from-actuals", params={"as_at": "2023-06-30"}, headers=auth
    )
    assert suggested.status_code == 200, suggested.text
    inputs = suggested.json()["inputs"]
    assert (inputs["baseline_children"], inputs["inhouse_foster_baseline"]) == (11, 4)
    assert any("no in-house children's home places" in n for n in suggested.json()["notes"])
    saved = client.post(base_path(), json=inputs, headers=auth)
    assert saved.status_code == 201, saved.text


ACCESS_CASES = {
    ("recruiter_stoke", STOKE): 403,
    ("regional_wm", STOKE): 403,
    ("manager_coventry", STOKE): 403,
    ("manager_stoke", COVENTRY): 403,
    ("admin", STOKE): 200,
    ("manager_stoke", STOKE): 200,
}


def test_api_is_for_the_authoritys_managers_and_admins(
    client: TestClient, tokens: dict[str, str]
) -> None:
    seen = {}
    for token, code in ACCESS_CASES:
        auth = bearer(tokens[token])
        listed = client.get(base_path(code), headers=auth).status_code
        preview = client.post(
            f"{base_path(code)}/preview", json=as_json(appendix1_inputs(0.0)), headers=auth
        ).status_code
        assert listed == preview, (token, code)
        seen[(token, code)] = listed
    assert seen == ACCESS_CASES
    # A scenario of Stoke is not found through Coventry's path, and stays as it was.
    stoke = bearer(tokens["manager_stoke"])
    scenario_id = client.post(
        base_path(), json=as_json(appendix1_inputs(0.0)), headers=stoke
    ).json()["id"]
    coventry = bearer(tokens["manager_coventry"])
    assert client.get(f"{base_path(COVENTRY)}/{scenario_id}", headers=coventry).status_code == 404
    deleted = client.delete(f"{base_path(COVENTRY)}/{scenario_id}", headers=coventry)
    assert deleted.status_code == 404
    assert client.get(f"{base_path()}/{scenario_id}", headers=stoke).status_code == 200


BAD_BODIES: list[tuple[dict[str, Any], int, str | None]] = [
    ({"care_mix": {"foster": 1.5}}, 422, "care_mix.foster"),
    ({"inhouse_home_additions": {"2040": 4}}, 422, "inhouse_home_additions.2040"),
    ({"change_percent": None}, 422, "change_percent"),
    ({"changes": [{"kind": "percent", "value": -2}]}, 422, "changes"),
    ({"changes": None, "change_percent": None, "colour": "red"}, 400, "colour"),
    ({"baseline_children": "many"}, 400, "baseline_children"),
    ({"changes": [{"kind": "halve", "value": 1}], "change_percent": None}, 400, None),
]


def test_api_bad_input_is_refused_naming_the_field_and_stores_nothing(
    client: TestClient, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["manager_stoke"])
    for change, status, field in BAD_BODIES:
        body = {**as_json(appendix1_inputs(-2.0)), **change}
        response = client.post(base_path(), json=body, headers=auth)
        assert response.status_code == status, response.text
        problem = response.json()
        if status == 422:
            assert problem["field"] == field
        elif field is not None:
            assert field in [e["field"] for e in problem["errors"]]
        else:
            assert "kind" in problem["detail"]
    assert client.get(base_path(), headers=auth).json() == []
    for ids, status in (("1,x", 422), ("1", 422), ("1,2", 404), ("", 422)):
        response = client.get(f"{base_path()}/compare", params={"ids": ids}, headers=auth)
        assert response.status_code == status, (ids, response.text)
        assert response.json()["field"] == "ids"
    early = client.get(f"{base_path()}/from-actuals", params={"as_at": "0001-01-01"}, headers=auth)
    assert (early.status_code, early.json()["field"]) == (400, "as_at")


NEW_INPUTS_TODAY = date(2026, 12, 5)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"baseline_children": 100, "inhouse_foster_baseline": 270, "connected_baseline": 10},
            "inhouse_foster_baseline",
            "Children with in-house foster carers at the baseline (270) cannot be more than the "
            "children in care at the baseline (100)",
        ),
        (
            {"baseline_children": 300, "inhouse_foster_baseline": 200, "connected_baseline": 150},
            "connected_baseline",
            "Children with in-house foster carers (200) and with connected carers (150) at the "
            "baseline come to 350, more than the 300 children in care at the baseline",
        ),
        (
            {"baseline_children": 100, "inhouse_foster_baseline": 20, "connected_baseline": 179},
            "connected_baseline",
            "Children with connected carers at the baseline (179) cannot be more than the "
            "children in care at the baseline (100)",
        ),
        (
            {"baseline_year": 1990},
            "baseline_year",
            "The baseline year must be between 2015 and 2026",
        ),
        (
            {"baseline_year": 2027},
            "baseline_year",
            "The baseline year must be between 2015 and 2026",
        ),
        (
            {"care_mix": CareMix(foster=0.8, childrens_homes=0.3, supported_accommodation=0.1)},
            "care_mix",
            "The care mix shares add up to 120%; they must add up to at most 100%",
        ),
        (
            {"weekly_costs": WeeklyCosts(ifa_foster=-1)},
            "weekly_costs.ifa_foster",
            "The weekly cost of independent fostering agency places must be between £0 and "
            "£1,000,000",
        ),
        (
            {"change_percent": -100.0},
            "change_percent",
            "The change each year must be more than -100% and at most 100%",
        ),
    ],
)
def test_new_inputs_are_refused_in_plain_words(
    changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidValueError) as refused:
        validate_new_inputs(_bad(**changes), NEW_INPUTS_TODAY)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_a_stored_scenario_from_before_the_new_rules_still_reads() -> None:
    """The save-time rules (baseline year, parts within the total) do not stop a scenario
    saved before them from being projected."""
    old = _bad(baseline_year=1995, inhouse_home_additions={}, inhouse_foster_baseline=2000)
    assert project(old).rows[0].year == 1995


def test_api_refuses_parts_beyond_the_total_and_an_old_baseline_also_in_a_preview(
    client: TestClient, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["manager_stoke"])
    parts = {**as_json(appendix1_inputs(-2.0)), "inhouse_foster_baseline": 1000}
    year = {**as_json(appendix1_inputs(-2.0)), "baseline_year": 1990}
    for path in (base_path(), f"{base_path()}/preview"):
        refused = client.post(path, json=parts, headers=auth)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["rule"], refused.json()["field"]) == (
            "baseline_parts",
            "connected_baseline",
        )
        old = client.post(path, json=year, headers=auth)
        assert (old.status_code, old.json()["field"]) == (422, "baseline_year")
    assert client.get(base_path(), headers=auth).json() == []


def test_rounded_shares_never_come_to_more_than_the_total() -> None:
    """Found by the property test above: 6 children, foster 80%, homes 10%, supported 10%
    round to 5 + 1 + 1 = 7. The excess comes off a part rounded up most (homes: 0.6 -> 1, by
    0.4, first of the two), so the row gives 5 + 0 + 1 + 0 other = 6 and says so."""
    inputs = ScenarioInputs(
        name="shares near one",
        baseline_year=2023,
        baseline_children=6,
        change_percent=0.0,
        care_mix=CareMix(foster=0.8, childrens_homes=0.1, supported_accommodation=0.1),
        inhouse_foster_baseline=0,
        connected_baseline=0,
        inhouse_home_places_baseline=0,
    )
    row = project(inputs).rows[0]
    parts = (row.foster, row.childrens_homes, row.supported_accommodation, row.other)
    assert parts == (5, 0, 1, 0)
    assert any("came to 1 more than the total" in note for note in row.notes)
