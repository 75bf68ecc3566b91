"""Trajectories (`tracker.targets.trajectories`) and metric actuals (`tracker.targets.metrics`)
on a small built dataset, on both backends: each target kind against hand-checked actuals and
stored forecasts whose sample paths make the chance known, proportions forecast on demand,
and no forecast.

The dataset (today 15 March 2026, so the last complete month is February 2026):
- an enquiry received on 1 February 2023 (the funnel and the register count from then);
- 2 approvals a month from April 2024 to February 2026 (24 in 2024-25, 22 so far in 2025-26);
- 10 in-house households of 2 places from 1 February 2023, 17 children placed then (85%),
  an 18th from 1 January 2025 (90%);
- 3 supported lodgings hosts from 1 February 2023 and a 4th from 10 June 2025;
- Staying Put entered by hand from April 2023: 4 leavers a month, 2 and 3 staying in turn
  (30 of 48 in any 12 months: 62.5%).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import delete

from forecast.months import add_months
from forecast.types import ForecastPoint, SeriesForecast
from tests.conftest import AUTHORITIES, COVENTRY, STOKE, _empty
from tracker.capacity.demand import record_children_in_care
from tracker.capacity.schemas import ChildrenInCareEntry
from tracker.capacity.tables import ChildrenInCareFigure
from tracker.children.figures import Metric, MonthlyFigure, record_monthly_figures
from tracker.children.tables import MonthlyAggregate
from tracker.core.access import SYSTEM
from tracker.core.authorities import add_authority
from tracker.enquiries.tables import Enquiry
from tracker.forecasting.lease import claim_run
from tracker.forecasting.runs import finish_run, start_run
from tracker.forecasting.tables import ForecastResult, ForecastRun, RunLease, Trigger
from tracker.households.care_types import HouseholdCareType, PlacementCategory
from tracker.households.placements import place_child
from tracker.households.schemas import NewHousehold, NewPlacement
from tracker.households.service import approve_household
from tracker.targets.kinds import Kind
from tracker.targets.metrics import MetricKey, actuals
from tracker.targets.schemas import NewTarget
from tracker.targets.service import create_target
from tracker.targets.status import Status, status_of
from tracker.targets.tables import Target
from tracker.targets.trajectories import trajectories, trajectory

TODAY = date(2026, 3, 15)
CUTOFF = date(2026, 2, 1)
PATHS = 1000


def _month(day: date) -> date:
    return day.replace(day=1)


@pytest.fixture(scope="module")
def built(migrated):
    """The dataset, built once per backend for the module and emptied after it."""
    with migrated.writing() as session:
        for new in AUTHORITIES:
            add_authority(session, new)
        session.add(Enquiry(authority_code=STOKE, received_on=date(2023, 2, 1), channel="phone"))
        month = date(2024, 4, 1)
        while month <= CUTOFF:
            for day in (10, 20):
                session.add(
                    Enquiry(
                        authority_code=STOKE,
                        received_on=add_months(month, -8),
                        channel="web_form",
                        stage="approved",
                        application_on=add_months(month, -6),
                        approved_on=month.replace(day=day),
                    )
                )
            month = add_months(month, 1)
        in_house = [
            approve_household(
                session,
                SYSTEM,
                STOKE,
                NewHousehold(
                    reference=f"IH{i}",
                    care_type=HouseholdCareType.IN_HOUSE,
                    approved_places=2,
                    approved_on=date(2023, 2, 1),
                ),
                TODAY,
            )
            for i in range(10)
        ]
        for i in range(17):
            place_child(
                session,
                SYSTEM,
                STOKE,
                in_house[i // 2].id,
                NewPlacement(child_ref=f"C-{i:03d}", start_on=date(2023, 2, 1)),
                TODAY,
            )
        place_child(
            session,
            SYSTEM,
            STOKE,
            in_house[9].id,
            NewPlacement(child_ref="C-017", start_on=date(2025, 1, 1)),
            TODAY,
        )
        for i, approved in enumerate([date(2023, 2, 1)] * 3 + [date(2025, 6, 10)]):
            approve_household(
                session,
                SYSTEM,
                STOKE,
                NewHousehold(
                    reference=f"SL{i}",
                    care_type=HouseholdCareType.SUPPORTED_LODGINGS,
                    approved_places=1,
                    approved_on=approved,
                    age_min=16,
                    age_max=21,
                ),
                TODAY,
            )
        figures = []
        month, index = date(2023, 4, 1), 0
        while month <= CUTOFF:
            label = f"{month:%Y-%m}"
            figures += [
                MonthlyFigure(month=label, metric=Metric.STAYING_PUT_ELIGIBLE, value=4),
                MonthlyFigure(month=label, metric=Metric.STAYING_PUT_STAYED, value=2 + index % 2),
            ]
            month, index = add_months(month, 1), index + 1
        record_monthly_figures(session, SYSTEM, STOKE, figures, TODAY)
    yield migrated
    _empty(migrated)


@pytest.fixture
def dataset(built):
    """The dataset; the targets, forecasts and figures a test adds go after it."""
    yield built
    with built.writing() as session:
        for table in (Target, ForecastResult, ForecastRun, RunLease, ChildrenInCareFigure):
            session.execute(delete(table))
        session.execute(
            delete(MonthlyAggregate).where(MonthlyAggregate.metric == Metric.CHILDREN_IN_CARE.value)
        )


def store_forecast(database, series: str, columns: list[np.ndarray]) -> None:
    """A succeeded run holding one series' forecast with these sample paths (month by month
    after CUTOFF)."""
    paths = np.column_stack(columns)
    points = [
        ForecastPoint(
            month=add_months(CUTOFF, i + 1),
            mean=float(paths[:, i].mean()),
            lo80=float(paths[:, i].min()),
            hi80=float(paths[:, i].max()),
            lo95=float(paths[:, i].min()),
            hi95=float(paths[:, i].max()),
        )
        for i in range(paths.shape[1])
    ]
    forecast = SeriesForecast(
        series_id=f"{STOKE}/{series}",
        cutoff=CUTOFF,
        model="drift",
        candidates=[],
        points=points,
        paths=paths.tolist(),
        notes=[],
    )
    with database.writing() as session:
        run_id = claim_run(
            session,
            STOKE,
            trigger=Trigger.CLI,
            triggered_by="test",
            holder="test",
            cutoff=CUTOFF,
            horizon=paths.shape[1],
            models=["drift"],
        )
        start_run(session, run_id, 1)
        finish_run(session, run_id, [forecast], [])


def split(first: float, second: float, share_first: int) -> np.ndarray:
    """PATHS values: `share_first` of them `first`, the rest `second`."""
    return np.array([first] * share_first + [second] * (PATHS - share_first))


def add_target(database, code: str = STOKE, **fields) -> int:
    with database.writing() as session:
        return create_target(session, SYSTEM, code, NewTarget(**fields), today=TODAY).id


def read(database, target_id: int):
    with database.read_session() as session:
        return trajectory(session, STOKE, target_id, today=TODAY)


# --- each kind -------------------------------------------------------------------------------


def test_an_annual_count_adds_the_year_so_far_to_the_paths_of_the_rest(dataset):
    # March 2026: 700 paths approve 11 (22 + 11 = 33), 300 approve 10; then 3 a month.
    store_forecast(dataset, "approvals/total", [split(11, 10, 700)] + [np.full(PATHS, 3.0)] * 13)
    target = add_target(
        dataset,
        metric="approvals",
        kind="annual_count",
        name="Approve 33 households a year",
        target_value=33,
        start_date=date(2024, 4, 1),
        target_date=date(2027, 3, 31),
    )
    result = read(dataset, target)
    assert result.status is Status.ON_TRACK
    assert result.probability == 0.7 and result.probability_at == date(2026, 3, 31)
    assert "2025-26 (the year in progress)" in result.status_rule
    assert [(m.label, m.basis, m.actual, m.met, m.probability) for m in result.milestones] == [
        ("2024-25", "actual", 24.0, False, None),
        ("2025-26", "forecast", None, None, 0.7),
        ("2026-27", "forecast", None, None, 1.0),
    ]
    months = {row.month: row for row in result.months}
    assert (months[CUTOFF].actual, months[CUTOFF].target) == (22.0, 30.25)  # year to date
    assert months[date(2026, 3, 1)].median == 33.0
    assert months[date(2026, 4, 1)].median == 3.0  # a new year starts from nothing
    assert result.gap == (
        "level with the target in 2025-26 on the forecast median (33 against a target of 33)"
    )
    assert result.forecast is not None and result.forecast.run_id is not None
    assert result.workback is not None and result.workback.approvals_per_year == 33


def test_compound_growth_takes_its_baseline_from_the_actuals_and_its_chance_from_the_paths(
    dataset,
):
    # In-house households: 10 throughout. March 2026: all paths at 12; March 2027: 600 of
    # 1,000 paths at 14, the rest at 12. The path: 10 x 1.1^3 = 13.31 by March 2027.
    columns = [np.full(PATHS, 12.0)] * 12 + [split(14, 12, 600)]
    store_forecast(dataset, "households/care_type=in_house", columns)
    target = add_target(
        dataset,
        metric="inhouse_households",
        kind="compound_growth",
        name="10% more in-house households a year",
        baseline_date=date(2024, 3, 31),
        annual_rate=10,
        target_date=date(2027, 3, 31),
    )
    result = read(dataset, target)
    assert result.target.baseline_value == 10.0
    assert [(m.label, m.target, m.basis) for m in result.milestones] == [
        ("March 2025", 11.0, "actual"),
        ("March 2026", 12.1, "forecast"),
        ("March 2027", 13.31, "forecast"),
    ]
    assert [m.probability for m in result.milestones] == [None, 0.0, 0.6]
    assert (result.status, result.probability) == (Status.AT_RISK, 0.6)
    assert result.gap == (
        "ahead by 1 in-house fostering households by March 2027 on the forecast median "
        "(14 against a target of 13)"
    )
    assert result.gap_value == pytest.approx(-0.69)
    assert result.months[0].month == date(2023, 3, 1)  # 36 months back, before the baseline
    assert {r.actual for r in result.months if r.month <= CUTOFF} == {10.0}
    assert result.workback is not None and result.workback.metric == "inhouse_households"
    assert result.workback.increase == pytest.approx(3.31)


def test_a_band_on_a_flow_is_measured_over_the_twelve_months_to_each_month(dataset):
    # April 2025 - February 2026: 22 approvals; March 2026: 11 on 700 paths (33), else 10 (32).
    store_forecast(dataset, "approvals/total", [split(11, 10, 700)] + [np.full(PATHS, 3.0)] * 3)
    target = add_target(
        dataset,
        metric="approvals",
        kind="band",
        name="Between 33 and 40 approvals a year",
        lower=33,
        upper=40,
        start_date=date(2025, 4, 1),
        target_date=date(2026, 3, 31),
    )
    result = read(dataset, target)
    assert (result.status, result.probability, result.probability_throughout) == (
        Status.ON_TRACK,
        0.7,
        0.7,
    )
    assert result.months[-1].target_upper == 40.0
    assert {r.month: r.actual for r in result.months}[CUTOFF] == 24.0  # March 2025 - Feb 2026


def test_without_a_forecast_the_latest_actual_is_held_to_the_path(dataset):
    target = add_target(
        dataset,
        metric="supported_lodgings_hosts",
        kind="level_by_date",
        name="7 supported lodgings hosts by March 2027",
        baseline_date=date(2024, 3, 31),
        baseline_value=3,
        target_value=7,
        target_date=date(2027, 3, 31),
    )
    result = read(dataset, target)
    # The path in February 2026: 3 + 4 x 23/36 = 5.56; 4 hosts since June 2025.
    assert (result.status, result.actual_status) == (Status.NO_FORECAST, Status.OFF_TRACK)
    assert result.probability is None and result.forecast is None
    assert result.gap_value == pytest.approx(1.56, abs=0.01)
    assert any("no forecast of" in note for note in result.notes)
    assert {r.month: r.actual for r in result.months}[date(2025, 6, 1)] == 4.0


def test_a_past_target_is_judged_on_its_actual(dataset):
    target = add_target(
        dataset,
        metric="supported_lodgings_hosts",
        kind="level_by_date",
        name="5 hosts by March 2025",
        baseline_date=date(2023, 3, 31),
        baseline_value=3,
        target_value=5,
        target_date=date(2025, 3, 31),
    )
    result = read(dataset, target)
    assert (result.status, result.probability) == (Status.MISSED, 0.0)
    assert (
        result.gap
        == "2 more supported lodgings hosts by March 2025 than the actual (3 against a target of 5)"
    )


def test_staying_put_is_forecast_as_a_proportion_with_honest_bands(dataset):
    target = add_target(
        dataset,
        metric="staying_put_rate",
        kind="level_by_date",
        name="Staying Put at 70% by March 2028",
        target_value=70,
        target_date=date(2028, 3, 31),
    )
    result = read(dataset, target)
    assert result.target.baseline_value == 62.5  # 30 of 48 in the year to February 2026
    assert result.target.baseline_date == date(2026, 2, 28)
    assert result.forecast is not None and result.forecast.fitted_on_demand
    assert result.forecast.run_id is None and result.actuals_source == "aggregates"
    assert 0 < result.probability < 0.5
    assert result.status is status_of(result.probability)
    last = result.months[-1]
    assert last.month == date(2028, 3, 1)
    # About 48 leavers a year: binomial noise alone spreads a year's rate by some 7 points.
    assert last.hi80 - last.lo80 > 10
    assert last.lo80 < 62.5 < last.hi80
    assert result.workback is None
    assert result.metric.unit == "percentage points"


def test_an_occupancy_floor_is_forecast_from_filled_and_available_places(dataset):
    target = add_target(
        dataset,
        metric="inhouse_occupancy",
        kind="floor",
        name="Occupancy at least 85%",
        lower=85,
        start_date=date(2025, 4, 1),
        target_date=date(2027, 3, 31),
    )
    result = read(dataset, target)
    actual = {r.month: r.actual for r in result.months}
    assert (actual[date(2024, 12, 1)], actual[date(2025, 1, 1)]) == (85.0, 90.0)
    assert result.forecast is not None and result.forecast.fitted_on_demand
    assert result.probability is not None and result.probability_throughout is not None
    assert result.probability_throughout <= result.probability
    assert result.status is status_of(result.probability)
    assert [m.label for m in result.milestones] == ["March 2026", "March 2027"]


def test_every_target_of_the_authority_and_only_its_own_is_listed(dataset):
    first = add_target(
        dataset, metric="approvals", kind="annual_count", name="A", target_value=20,
        start_date=date(2025, 4, 1), target_date=date(2026, 3, 31),
    )  # fmt: skip
    second = add_target(dataset, metric="inhouse_households", kind="floor", name="B", lower=8)
    add_target(
        dataset, COVENTRY, metric="enquiries", kind="floor", name="C", lower=100,
    )  # fmt: skip
    with dataset.read_session() as session:
        listed = trajectories(session, STOKE, today=TODAY)
    assert [t.target.id for t in listed] == [first, second]
    floor = listed[1]
    assert floor.target.kind is Kind.FLOOR and floor.target.start_date == date(2026, 3, 1)
    # Open-ended, with no forecast: followed two years past the last actual.
    assert floor.months[-1].month == date(2028, 2, 1)


# --- metric actuals ----------------------------------------------------------------------------


def test_children_in_in_house_foster_care_come_from_the_register_until_there_are_903_figures(
    dataset,
):
    with dataset.read_session() as session:
        found = actuals(session, STOKE, "inhouse_foster_children", date(2023, 1, 1), CUTOFF)
    assert found.source == "register"
    assert found.series_id == f"{STOKE}/filled_places/care_type=in_house"
    assert found.values[:3] == [None, 17.0, 17.0]  # the register counts from February 2023
    assert found.values[-1] == 18.0
    with dataset.writing() as session:
        figure = MonthlyFigure(
            month="2026-01", metric=Metric.CHILDREN_IN_CARE, value=21, breakdown="in_house_foster"
        )
        record_monthly_figures(session, SYSTEM, STOKE, [figure], TODAY)
    with dataset.read_session() as session:
        found = actuals(
            session, STOKE, MetricKey.INHOUSE_FOSTER_CHILDREN, date(2025, 12, 1), CUTOFF
        )
    assert found.source == "aggregates"
    assert found.series_id == f"{STOKE}/children_in_care/category=in_house_foster"
    assert found.values == [None, 21.0, None]


def test_funnel_and_proportion_actuals_know_where_their_data_begins(dataset):
    with dataset.read_session() as session:
        approvals = actuals(session, STOKE, "approvals", date(2023, 1, 1), date(2024, 5, 1))
        staying = actuals(session, STOKE, "staying_put_rate", date(2023, 3, 1), date(2023, 5, 1))
    assert approvals.values[0] is None and approvals.values[1] == 0.0
    assert approvals.values[-2:] == [2.0, 2.0]
    assert staying.values == [None, 2.0, 3.0] and staying.denominators == [None, 4.0, 4.0]


def test_children_in_care_without_903_figures_are_the_figures_entered_in_their_months(dataset):
    with dataset.writing() as session:
        for as_at, children in ((date(2024, 3, 31), 1100), (date(2025, 3, 31), 1080)):
            counts = {
                PlacementCategory.IN_HOUSE_FOSTER: 200,
                PlacementCategory.IFA_FOSTER: children - 200,
            }
            entry = ChildrenInCareEntry(as_at=as_at, counts=counts)
            record_children_in_care(session, STOKE, entry)
    with dataset.read_session() as session:
        found = actuals(session, STOKE, "children_in_care", date(2024, 2, 1), date(2025, 4, 1))
    assert found.source == "entered" and found.series_id == f"{STOKE}/children_in_care/total"
    assert [(i, v) for i, v in enumerate(found.values) if v is not None] == [
        (1, 1100.0),
        (13, 1080.0),
    ]
