"""Target arithmetic (`tracker.targets`): each kind's path and milestones, chances read
off sample paths on cases whose answer is known exactly or analytically, the status rule at
its boundaries, and the gap in words. Pure: no database."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy import stats

from forecast.months import add_months
from tracker.targets.assessment import assess
from tracker.targets.kinds import Direction, Kind, target_spec
from tracker.targets.measure import History, Shape, Simulation, measure_actual, measure_paths
from tracker.targets.status import Status, chance, status_of
from tracker.targets.wording import gap_sentence

M = date  # months are first days


def level(value: float, months: int) -> History:
    return History(start=M(2024, 1, 1), values=[value] * months)


# --- paths ---------------------------------------------------------------------------------


def test_compound_growth_grows_by_the_rate_each_year_and_in_between_by_its_root():
    spec = target_spec(
        kind=Kind.COMPOUND_GROWTH,
        start=M(2023, 3, 1),
        end=M(2028, 3, 1),
        baseline_value=211,
        annual_rate=2.0,
    )
    assert spec.path_value(M(2023, 3, 1)) == 211
    assert spec.path_value(M(2024, 3, 1)) == pytest.approx(215.22)
    assert spec.path_value(M(2028, 3, 1)) == pytest.approx(211 * 1.02**5)  # 232.96
    assert spec.path_value(M(2023, 9, 1)) == pytest.approx(211 * 1.02**0.5)
    assert spec.path_value(M(2023, 2, 1)) is None
    assert spec.path_value(M(2028, 4, 1)) is None


def test_level_by_date_is_a_straight_line_from_baseline_to_target():
    # Staffordshire: 29 supported lodgings hosts, 5 more a year for three years.
    spec = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2023, 3, 1),
        end=M(2026, 3, 1),
        baseline_value=29,
        target_value=44,
    )
    assert spec.path_value(M(2024, 3, 1)) == pytest.approx(34)
    assert spec.path_value(M(2024, 9, 1)) == pytest.approx(36.5)
    assert spec.path_value(M(2026, 3, 1)) == pytest.approx(44)


@pytest.mark.parametrize(
    ("direction", "baseline", "aim"),
    [(Direction.AT_LEAST, 66.7, 62.0), (Direction.AT_MOST, 8.0, 10.0)],
)
def test_a_level_already_met_at_the_baseline_is_held_not_walked_back_to(direction, baseline, aim):
    # Staying Put already 66.7% against "raise it to 62%": staying at 62% or more is the path.
    spec = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2026, 3, 1),
        end=M(2028, 3, 1),
        baseline_value=baseline,
        target_value=aim,
        direction=direction,
    )
    assert [spec.path_value(M(2026 + y, 3, 1)) for y in range(3)] == [aim] * 3
    below = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2026, 3, 1),
        end=M(2028, 3, 1),
        baseline_value=aim - 4,
        target_value=aim,
    )
    assert below.path_value(M(2027, 3, 1)) == pytest.approx(aim - 2)  # not yet met: a line


def test_an_annual_count_path_is_the_year_to_date_share_and_its_milestone_the_whole_year():
    spec = target_spec(
        kind=Kind.ANNUAL_COUNT, start=M(2023, 4, 1), end=M(2028, 3, 1), target_value=33
    )
    assert spec.path_value(M(2025, 4, 1)) == pytest.approx(2.75)
    assert spec.path_value(M(2025, 9, 1)) == pytest.approx(16.5)
    assert spec.path_value(M(2026, 3, 1)) == pytest.approx(33)
    assert spec.threshold(M(2025, 9, 1)) == 33


def test_floors_ceilings_and_bands_hold_their_levels():
    floor = target_spec(kind=Kind.FLOOR, start=M(2023, 4, 1), lower=85)
    ceiling = target_spec(
        kind=Kind.FLOOR, start=M(2023, 4, 1), direction=Direction.AT_MOST, upper=90
    )
    band = target_spec(kind=Kind.BAND, start=M(2023, 4, 1), lower=80, upper=92)
    month = M(2030, 1, 1)
    assert floor.path_value(month) == 85 and floor.path_upper(month) is None
    assert ceiling.path_value(month) == 90
    assert (band.path_value(month), band.path_upper(month)) == (80, 92)


def test_milestones_are_each_march_after_the_start_and_the_target_date():
    growth = target_spec(
        kind=Kind.COMPOUND_GROWTH,
        start=M(2023, 3, 1),
        end=M(2028, 3, 1),
        baseline_value=1,
        annual_rate=2,
    )
    assert growth.milestones() == [M(y, 3, 1) for y in range(2024, 2029)]
    level_target = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2025, 6, 1),
        end=M(2027, 9, 1),
        baseline_value=1,
        target_value=2,
    )
    assert level_target.milestones() == [M(2026, 3, 1), M(2027, 3, 1), M(2027, 9, 1)]
    count = target_spec(
        kind=Kind.ANNUAL_COUNT, start=M(2023, 4, 1), end=M(2028, 3, 1), target_value=33
    )
    assert count.milestones() == [M(y, 3, 1) for y in range(2024, 2029)]
    open_floor = target_spec(kind=Kind.FLOOR, start=M(2026, 12, 1), lower=85)
    assert open_floor.milestones() == []
    assert open_floor.milestones(open_end=M(2028, 11, 1)) == [
        M(2027, 3, 1),
        M(2028, 3, 1),
        M(2028, 11, 1),
    ]


# --- measuring -----------------------------------------------------------------------------


def test_flows_are_measured_over_twelve_months_or_the_year_to_date():
    history = History(start=M(2024, 4, 1), values=[float(i) for i in range(1, 25)])  # 1..24
    assert measure_actual(Shape.FLOW, history, M(2025, 3, 1)) == sum(range(1, 13))
    assert measure_actual(Shape.FLOW, history, M(2025, 6, 1)) == sum(range(4, 16))
    assert measure_actual(Shape.FLOW, history, M(2025, 6, 1), year_to_date=True) == 13 + 14 + 15
    assert measure_actual(Shape.FLOW, history, M(2025, 2, 1)) is None  # the window starts earlier


def test_proportions_are_percentages_of_the_summed_parts():
    stayed = [3.0, 0.0, 2.0] * 4
    leavers = [4.0, 1.0, 5.0] * 4
    history = History(start=M(2025, 4, 1), values=stayed, denominators=leavers)
    assert measure_actual(Shape.PROPORTION_FLOW, history, M(2026, 3, 1)) == pytest.approx(50.0)
    assert measure_actual(Shape.PROPORTION_STOCK, history, M(2026, 3, 1)) == pytest.approx(40.0)


# --- chances with known answers --------------------------------------------------------------


def test_the_chance_is_the_share_of_paths_meeting_the_target_exactly():
    values = np.array([110.0] * 700 + [90.0] * 300)
    spec = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2025, 1, 1),
        end=M(2026, 1, 1),
        baseline_value=90,
        target_value=100,
    )
    assert chance(spec, values, M(2026, 1, 1)) == 0.7
    reduction = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2025, 1, 1),
        end=M(2026, 1, 1),
        direction=Direction.AT_MOST,
        baseline_value=120,
        target_value=100,
    )
    assert chance(reduction, values, M(2026, 1, 1)) == 0.3
    # A path exactly on the target meets it; a path with no value is left out.
    assert chance(spec, np.array([100.0, 99.0, np.nan]), M(2026, 1, 1)) == 0.5


def test_a_gaussian_random_walk_matches_the_normal_distribution():
    rng = np.random.default_rng(7)
    paths, sigma, start = 20_000, 2.0, 100.0
    walk = start + rng.normal(0, sigma, size=(paths, 24)).cumsum(axis=1)
    history = History(start=M(2024, 1, 1), values=[start] * 12)  # last actual Dec 2024
    simulation = Simulation(first=M(2025, 1, 1), values=walk)
    spec = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2024, 12, 1),
        end=M(2025, 12, 1),
        baseline_value=100,
        target_value=105,
    )
    values = measure_paths(Shape.LEVEL, history, simulation, M(2025, 12, 1))
    expected = 1 - stats.norm.cdf(5 / (sigma * math.sqrt(12)))  # 0.2352
    # Four standard errors of a share from 20,000 paths: 0.012.
    assert chance(spec, values, M(2025, 12, 1)) == pytest.approx(expected, abs=0.012)
    assessment = assess(
        spec, Shape.LEVEL, history, simulation, first_month=M(2024, 1, 1), unit="households"
    )
    assert assessment.probability == pytest.approx(expected, abs=0.012)
    assert assessment.status is Status.OFF_TRACK
    assert assessment.months[-1].median == pytest.approx(100, abs=0.2)


def test_an_annual_count_adds_the_months_observed_to_the_paths_of_the_rest():
    # April to November observed: 20 approvals; December to March Poisson(2) a month.
    history = History(start=M(2025, 4, 1), values=[3.0, 2.0, 3.0, 2.0, 3.0, 2.0, 3.0, 2.0])
    rng = np.random.default_rng(11)
    simulation = Simulation(
        first=M(2025, 12, 1), values=rng.poisson(2.0, size=(20_000, 12)).astype(float)
    )
    spec = target_spec(
        kind=Kind.ANNUAL_COUNT, start=M(2025, 4, 1), end=M(2026, 3, 1), target_value=33
    )
    values = measure_paths(Shape.FLOW, history, simulation, M(2026, 3, 1), year_to_date=True)
    expected = stats.poisson.sf(12, 8.0)  # P(20 + S >= 33), S ~ Poisson(4 x 2): 0.1119
    assert chance(spec, values, M(2026, 3, 1)) == pytest.approx(expected, abs=0.01)
    assessment = assess(
        spec, Shape.FLOW, history, simulation, first_month=M(2025, 4, 1), unit="households approved"
    )
    assert assessment.probability == pytest.approx(expected, abs=0.01)
    assert assessment.status is Status.OFF_TRACK
    assert "the year in progress" in assessment.status_rule
    november = next(r for r in assessment.months if r.month == M(2025, 11, 1))
    assert (november.actual, november.target) == (20.0, 22.0)  # year to date, 8/12 of 33


def test_a_proportion_over_a_year_partly_observed_matches_the_binomial():
    # Six months observed: 30 leavers, 18 stayed. Six to come: 5 leavers a month, each staying
    # with chance 0.6. 62% of 60 is 37.2, so 18 + B >= 37.2 needs B >= 20, B ~ Binomial(30, 0.6).
    history = History(start=M(2025, 4, 1), values=[3.0] * 6, denominators=[5.0] * 6)
    rng = np.random.default_rng(3)
    stayed = rng.binomial(5, 0.6, size=(20_000, 12)).astype(float)
    simulation = Simulation(
        first=M(2025, 10, 1), values=stayed, denominators=np.full((20_000, 12), 5.0)
    )
    spec = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2025, 3, 1),
        end=M(2026, 3, 1),
        baseline_value=40,
        target_value=62,
    )
    values = measure_paths(Shape.PROPORTION_FLOW, history, simulation, M(2026, 3, 1))
    assert chance(spec, values, M(2026, 3, 1)) == pytest.approx(
        stats.binom.sf(19, 30, 0.6), abs=0.012
    )


def test_a_floor_met_at_its_date_may_still_dip_below_on_the_way():
    # Half the paths dip to 80% in one month; all end at 88%.
    history = History(start=M(2025, 1, 1), values=[87.0] * 12, denominators=[100.0] * 12)
    numerators = np.full((1000, 6), 88.0)
    numerators[:500, 2] = 80.0
    simulation = Simulation(
        first=M(2026, 1, 1), values=numerators, denominators=np.full((1000, 6), 100.0)
    )
    spec = target_spec(kind=Kind.FLOOR, start=M(2025, 4, 1), end=M(2026, 6, 1), lower=85)
    assessment = assess(
        spec,
        Shape.PROPORTION_STOCK,
        history,
        simulation,
        first_month=M(2025, 1, 1),
        unit="percentage points",
    )
    assert assessment.probability == 1.0 and assessment.status is Status.ON_TRACK
    assert assessment.probability_throughout == 0.5
    assert [m.basis for m in assessment.milestones] == ["forecast", "forecast"]


# --- status ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meeting", "status"),
    [(1000, Status.ON_TRACK), (700, Status.ON_TRACK), (699, Status.AT_RISK),
     (300, Status.AT_RISK), (299, Status.OFF_TRACK), (0, Status.OFF_TRACK)],
)  # fmt: skip
def test_the_status_rule_boundaries(meeting, status):
    history = level(100.0, 12)
    column = np.array([120.0] * meeting + [80.0] * (1000 - meeting))
    simulation = Simulation(first=M(2025, 1, 1), values=np.tile(column[:, None], (1, 6)))
    spec = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2024, 12, 1),
        end=M(2025, 6, 1),
        baseline_value=100,
        target_value=110,
    )
    assessment = assess(
        spec, Shape.LEVEL, history, simulation, first_month=M(2024, 1, 1), unit="households"
    )
    assert assessment.probability == meeting / 1000
    assert assessment.status is status
    assert status_of(meeting / 1000) is status
    assert "at least 70%" in assessment.status_rule and "June 2025" in assessment.status_rule


def test_a_target_date_beyond_the_forecast_is_judged_at_the_last_milestone_inside_it():
    history = level(100.0, 12)
    simulation = Simulation(first=M(2025, 1, 1), values=np.full((100, 24), 103.0))  # to Dec 2026
    spec = target_spec(
        kind=Kind.COMPOUND_GROWTH,
        start=M(2024, 3, 1),
        end=M(2029, 3, 1),
        baseline_value=100,
        annual_rate=2,
    )
    assessment = assess(
        spec, Shape.LEVEL, history, simulation, first_month=M(2024, 1, 1), unit="children"
    )
    assert assessment.probability_at == M(2026, 3, 1)
    assert assessment.probability == 0.0  # 103 < 100 x 1.02^2 = 104.04
    assert "beyond the forecast" in assessment.status_rule
    assert "last milestone inside it" in assessment.status_rule
    bases = {m.month: m.basis for m in assessment.milestones}
    assert bases[M(2025, 3, 1)] == "forecast" and bases[M(2029, 3, 1)] == "beyond_forecast"


def test_a_past_target_is_met_or_missed_on_its_actual():
    spec = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2023, 3, 1),
        end=M(2024, 6, 1),
        baseline_value=29,
        target_value=44,
    )
    history = History(start=M(2023, 1, 1), values=[30.0] * 24)
    missed = assess(spec, Shape.LEVEL, history, None, first_month=M(2023, 1, 1), unit="hosts")
    assert (missed.status, missed.probability, missed.gap_value) == (Status.MISSED, 0.0, 14.0)
    assert missed.gap == "14 more hosts by June 2024 than the actual (30 against a target of 44)"
    history = History(start=M(2023, 1, 1), values=[50.0] * 24)
    met = assess(spec, Shape.LEVEL, history, None, first_month=M(2023, 1, 1), unit="hosts")
    assert (met.status, met.probability) == (Status.MET, 1.0)


def test_without_a_forecast_the_latest_actual_is_held_to_the_path():
    spec = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2024, 1, 1),
        end=M(2026, 1, 1),
        baseline_value=100,
        target_value=124,
    )
    history = level(105.0, 13)  # Jan 2024 - Jan 2025; the path is at 112 in Jan 2025
    assessment = assess(
        spec, Shape.LEVEL, history, None, first_month=M(2024, 1, 1), unit="households"
    )
    assert assessment.status is Status.NO_FORECAST
    assert assessment.actual_status is Status.OFF_TRACK
    assert assessment.probability is None
    assert assessment.gap_value == 7.0
    assert "latest actual (January 2025)" in (assessment.gap or "")
    assert [m.basis for m in assessment.milestones] == ["actual", "no_forecast", "no_forecast"]


# --- the gap in words ----------------------------------------------------------------------


def test_gap_sentences_name_the_amount_in_the_metric_units():
    growth = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2024, 3, 1),
        end=M(2026, 3, 1),
        baseline_value=200,
        target_value=214,
    )
    assert gap_sentence(
        growth, 200.2, M(2026, 3, 1), unit="children in in-house foster care", percent=False,
        basis="forecast median",
    ) == (
        "14 more children in in-house foster care by March 2026 than the forecast median "
        "(200 against a target of 214)"
    )  # fmt: skip
    count = target_spec(
        kind=Kind.ANNUAL_COUNT, start=M(2025, 4, 1), end=M(2026, 3, 1), target_value=33
    )
    assert gap_sentence(
        count, 39, M(2026, 3, 1), unit="households approved", percent=False, basis="forecast median"
    ) == (
        "ahead by 6 households approved in 2025-26 on the forecast median "
        "(39 against a target of 33)"
    )
    rate = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2026, 3, 1),
        end=M(2028, 3, 1),
        baseline_value=40,
        target_value=62,
    )
    assert gap_sentence(
        rate, 57.84, M(2028, 3, 1), unit="percentage points", percent=True, basis="forecast median"
    ) == (
        "4.2 more percentage points by March 2028 than the forecast median "
        "(57.8% against a target of 62.0%)"
    )
    fewer = target_spec(
        kind=Kind.LEVEL_BY_DATE,
        start=M(2024, 3, 1),
        end=M(2026, 3, 1),
        direction=Direction.AT_MOST,
        baseline_value=1100,
        target_value=1000,
    )
    assert gap_sentence(
        fewer, 1030, M(2026, 3, 1), unit="children in care", percent=False, basis="forecast median"
    ).startswith("30 fewer children in care by March 2026")


def test_a_window_reaching_past_the_paths_has_no_forecast():
    history = level(1.0, 12)
    simulation = Simulation(first=M(2025, 1, 1), values=np.ones((10, 3)))
    assert measure_paths(Shape.FLOW, history, simulation, add_months(M(2025, 1, 1), 3)) is None
    assert measure_paths(Shape.FLOW, history, simulation, M(2025, 3, 1)) is not None


def test_a_level_already_met_reads_as_held_not_as_a_rise():
    from tracker.targets.tables import Target
    from tracker.targets.wording import summary

    row = Target(
        authority_code="E06000021",
        metric="staying_put_rate",
        kind="level_by_date",
        name="Staying Put to 62%",
        baseline_date=M(2026, 3, 31),
        baseline_value=66.7,
        target_date=M(2028, 3, 31),
        target_value=62.0,
        created_by="test",
    )
    assert "at least 62.0% by 31 March 2028, already 66.7% on 31 March 2026" in summary(row)
    row.baseline_value = 55.0
    assert "up to 62.0% by 31 March 2028, from 55.0% on 31 March 2026" in summary(row)
