"""The forecasting engine: selection, calibrated intervals, degenerate series, fallbacks,
executors, chances from sample paths and the CSV format. No database or HTTP here."""

from __future__ import annotations

import csv
import io
from datetime import date

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast import engine, executors, models, roster
from forecast import statsforecast_models as sf
from forecast.backtest import Backtest, plan_origins, run_backtest
from forecast.csvio import read_series_csv, write_forecast_csv
from forecast.intervals import calibrate
from forecast.log_scale import LogScale, wants_log
from forecast.models import Forecast
from forecast.selection import (
    challenge,
    choice_note,
    choose,
    clearly_better,
    combine,
    prophet_skip_reason,
    rank,
)
from forecast.types import DEFAULT_MODELS, ForecastOptions, MonthlySeries, SeriesForecast

START = date(2019, 4, 1)
FAST = ForecastOptions(horizon=12, models=("seasonal_naive", "drift", "ets", "theta"))


def series(values, series_id: str = "s", is_count: bool = True, start: date = START):
    return MonthlySeries(series_id=series_id, start=start, values=list(values), is_count=is_count)


def seasonal_values(n: int, seed: int = 1, level: float = 60.0, amplitude: float = 15.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.round(level + amplitude * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2.0, n))


def scores(forecast: SeriesForecast) -> dict[str, float | None]:
    return {c.model: c.mase for c in forecast.candidates}


def backtest(model: str, errors, forecasts=None, first: int = 36) -> Backtest:
    """A backtest whose actuals are `errors` (origins x months ahead) away from `forecasts`
    (zeros unless given), every origin's scale 1."""
    errors = np.asarray(errors, dtype=float)
    forecasts = np.zeros_like(errors) if forecasts is None else np.asarray(forecasts, float)
    origins = tuple(range(first, first + len(errors)))
    return Backtest(model, origins, forecasts, forecasts + errors, np.ones(len(errors)))


# Selection


def test_strong_seasonality_is_forecast_by_a_seasonal_model_not_drift():
    forecast = engine.forecast_series(series(seasonal_values(72)), FAST)
    mase = scores(forecast)
    assert forecast.model in {"seasonal_naive", "ets", "theta"}
    assert mase[forecast.model] < 0.5 * mase["drift"]
    assert all(c.mase is not None for c in forecast.candidates)
    peak, trough = forecast.points[2].mean, forecast.points[8].mean  # around July and January
    assert peak - trough > 20


def test_pure_trend_is_forecast_by_drift_or_ets_and_carries_the_trend_on():
    rng = np.random.default_rng(2)
    values = 100 + 3.0 * np.arange(48) + rng.normal(0, 1.5, 48)
    options = ForecastOptions(horizon=12, models=("seasonal_naive", "drift", "ets"))
    forecast = engine.forecast_series(series(values), options)
    assert forecast.model in {"drift", "ets"}
    assert scores(forecast)[forecast.model] < 0.3 * scores(forecast)["seasonal_naive"]
    assert forecast.points[11].mean == pytest.approx(100 + 3.0 * 59, abs=8)


def test_the_lowest_backtest_error_wins_and_a_baseline_is_never_passed_over():
    ets = backtest("ets", [[1.10]] * 3)
    naive = backtest("seasonal_naive", [[0.89]] * 3)
    theta = backtest("theta", [[0.95]] * 3)
    ranking = rank([ets, naive, theta])
    assert [b.model for b in ranking] == ["seasonal_naive", "theta", "ets"]
    note = choice_note(ranking[0], {b.model: b for b in ranking}, [], 12, None)
    assert "because no fitted model beat it" in note
    assert "the best, Theta, scored MASE 0.95 against 0.89" in note


def test_the_median_of_ets_theta_and_ces_stays_the_choice_unless_beaten_clearly():
    combined = backtest("combination_median", [[1.3], [0.7]] * 15)  # MASE 1.00
    lucky = backtest("seasonal_naive", [[0.6], [1.3]] * 15)  # 0.95: lower, but by luck
    assert lucky.mase < combined.mase and not clearly_better(lucky, combined, 1)
    assert choose([lucky, combined], 1)[0].model == "combination_median"
    runs = {"combination_median": combined, "seasonal_naive": lucky}
    note = choice_note(combined, runs | {"ets": backtest("ets", [[1.2]] * 30)}, ["ets"], 1, None)
    assert note.startswith("chosen by backtest: the median of exponential smoothing (ETS) over 30")
    assert f"Seasonal naive ({lucky.mase:.2f}) did better in the backtest" in note
    assert "but not clearly enough to replace it (a test over the backtest at 5%)" in note

    steady = backtest("theta", combined.errors * 0.5)  # clearly better over the backtest
    assert clearly_better(steady, combined, 1)
    ranking = choose([combined, lucky, steady], 1)
    assert [b.model for b in ranking] == ["theta", "seasonal_naive", "combination_median"]
    note = choice_note(ranking[0], {b.model: b for b in ranking}, ["theta"], 1, None)
    assert "Theta, because it beat the median combination clearly" in note
    assert f"a test at 5%); seasonal naive scored {lucky.mase:.2f}" in note


@pytest.mark.parametrize("winner", ["seasonal_naive", "combination_mean", "ets"])
def test_any_candidate_that_clearly_beat_the_median_replaces_it(winner):
    combined = backtest("combination_median", [[1.3], [0.7]] * 15)
    clear = backtest(winner, combined.errors * 0.6)
    near = backtest("theta", [[0.6], [1.3]] * 15)  # lower (0.95), not clearly: stays behind
    ranking = choose([combined, near, clear], 1)
    assert ranking[0].model == winner
    assert choose([combined, near], 1)[0].model == "combination_median"


def test_combinations_are_of_ets_theta_and_ces_whatever_their_scores():
    runs = {
        "ets": backtest("ets", [[3.0, 3.0]], forecasts=[[10.0, 20.0]]),
        "theta": backtest("theta", [[2.0, 2.0]], forecasts=[[13.0, 26.0]]),
        "ces": backtest("ces", [[4.0, 4.0]], forecasts=[[19.0, 29.0]]),
        "croston": backtest("croston", [[1.0, 1.0]], forecasts=[[100.0, 100.0]]),
        "seasonal_naive": backtest("seasonal_naive", [[0.5, 0.5]], forecasts=[[0.0, 0.0]]),
    }
    combined, members = combine(runs, ["combination_median", "combination_mean"])
    assert members == ["ets", "theta", "ces"]  # not Croston, though it scored best
    assert combined["combination_median"].forecasts.tolist() == [[13.0, 26.0]]
    assert combined["combination_mean"].forecasts.tolist() == [[14.0, 25.0]]
    assert combined["combination_mean"].actuals.tolist() == runs["ets"].actuals.tolist()
    # With only one of the three, the best fitted models that ran make it up.
    runs["ces"] = Backtest("ces", failure="ValueError")
    runs["theta"] = Backtest("theta", failure="ValueError")
    assert combine(runs, ["combination_mean"])[1] == ["croston", "ets"]


def test_the_options_may_name_other_members_for_the_combinations():
    runs = {
        "ets": backtest("ets", [[3.0]], forecasts=[[10.0]]),
        "theta": backtest("theta", [[2.0]], forecasts=[[13.0]]),
        "ces": backtest("ces", [[4.0]], forecasts=[[19.0]]),
        "sarima": backtest("sarima", [[2.5]], forecasts=[[40.0]]),
    }
    combined, members = combine(runs, ["combination_median"], ("ets", "ces", "sarima"))
    assert members == ["ets", "ces", "sarima"]
    assert combined["combination_median"].forecasts.tolist() == [[19.0]]
    options = ForecastOptions(
        models=(*DEFAULT_MODELS, "sarima"), members=("ets", "ces", "sarima"), origins=4
    )
    forecast = engine.forecast_series(series(seasonal_values(60)), options)
    note = next(n for n in forecast.notes if n.startswith("chosen by backtest"))
    assert "seasonal ARIMA (airline)" in note and "Theta" not in note.split(";")[0]
    assert scores(forecast)["sarima"] is not None


def test_the_ets_figures_candidate_stays_on_the_figures_where_the_others_go_on_logs():
    # A seasonal series whose swing grows with its level: the fitted models go on the logs.
    months = np.arange(84)
    level = 50 * 1.02**months
    values = level * (1 + 0.3 * np.sin(2 * np.pi * months / 12))
    assert wants_log(values, True)
    options = ForecastOptions(
        models=("seasonal_naive", "ets", "ets_figures", "theta", "ces", "combination_median"),
        members=("ets_figures", "theta", "ces"),
        origins=4,
    )
    built, _, _ = engine._roster(options, seasonal=True, is_count=False, on_logs=True)
    assert isinstance(built["ets"], LogScale) and isinstance(built["theta"], LogScale)
    assert not isinstance(built["ets_figures"], LogScale)
    forecast = engine.forecast_series(series(values.tolist(), is_count=False), options)
    assert scores(forecast)["ets_figures"] is not None


def test_the_damped_ets_candidate_searches_the_damped_seasonal_forms_too():
    from forecast.statsforecast_models import ETS_FORMS, ETS_FORMS_DAMPED, auto_ets_damped

    assert set(ETS_FORMS_DAMPED) - set(ETS_FORMS) == {
        ("A", "A", "A", True),
        ("M", "A", "A", True),
        ("M", "A", "M", True),
    }
    # A seasonal series whose growth fades: the damped trend fits it best of every form.
    months = np.arange(72)
    values = 100 + 60 * (1 - 0.93**months) + 8 * np.sin(2 * np.pi * months / 12)
    noise = np.random.default_rng(5).normal(0, 0.5, months.size)
    fitted = auto_ets_damped(True).fit(values + noise, date(2019, 1, 1))
    assert fitted.model.model_["components"][3] == "D"
    options = ForecastOptions(
        models=("seasonal_naive", "ets_damped", "theta", "ces", "combination_median"),
        members=("ets_damped", "theta", "ces"),
        origins=4,
    )
    forecast = engine.forecast_series(series(seasonal_values(60)), options)
    assert scores(forecast)["ets_damped"] is not None
    assert "damped seasonal forms too" in " ".join(forecast.notes)


def test_prophet_is_tried_only_where_seasonal_naive_clearly_beat_every_fast_model():
    naive = backtest("seasonal_naive", [[0.5], [0.6]] * 10)
    bad = [[1.5], [1.6]] * 10
    default = backtest("combination_median", bad)
    assert "48 months" in (prophet_skip_reason([naive, default], 40, 1) or "")
    held = [naive, default, backtest("ets", bad), backtest("theta", [[0.55], [0.5]] * 10)]
    assert "did not clearly beat Theta" in (prophet_skip_reason(held, 84, 1) or "")
    beaten = [naive, default, backtest("ets", bad), backtest("theta", bad)]
    assert prophet_skip_reason(beaten, 84, 1) is None


def test_prophet_that_lost_to_seasonal_naive_overall_is_chosen_only_with_a_warning():
    naive = backtest("seasonal_naive", [[0.5], [0.5], [2.0]])  # mean 1.0; 2.0 at origin 38
    prophet = backtest("prophet", [[1.5]], first=38)
    ranking = challenge(rank([naive]), prophet, 38)
    assert ranking[0].model == "prophet"
    note = choice_note(ranking[0], {"seasonal_naive": naive, "prophet": prophet}, [], 1, 38)
    assert "its one test" in note and "against 2.00 for seasonal naive" in note
    assert "seasonal naive did better (1.00) than Prophet's one test" in note


def test_origins_run_every_third_month_to_the_end_leaving_the_wanted_full_horizon_ones():
    assert plan_origins(84, 24, 12, 24) == list(range(27, 84, 3))  # 27, 30, ... 60: 12 full
    assert plan_origins(40, 24, 12, 24) == list(range(24, 40, 3))  # squeezed: 24 to fit on
    assert plan_origins(24, 24, 12, 24) == []


def test_seasonal_models_are_backtested_on_three_years_where_a_year_is_left_to_test():
    forecast = engine.forecast_series(series(seasonal_values(60)), FAST)
    chosen = next(n for n in forecast.notes if n.startswith("chosen by backtest"))
    assert "from 36 to 57 months of history" in chosen
    short = engine.forecast_series(series(seasonal_values(40)), FAST)
    chosen = next(n for n in short.notes if n.startswith("chosen by backtest"))
    assert "from 28 to 37 months of history" in chosen


def test_ets_and_ces_keep_the_form_of_their_first_fit():
    values = seasonal_values(84).astype(float)
    for build in (sf.auto_ets, sf.auto_ces):
        model = build(True)
        whole = model.fit(values, START).model.model_  # type: ignore[attr-defined]
        early = model.fit(values[:36], START).model.model_  # type: ignore[attr-defined]
        key = "components" if build is sf.auto_ets else "seasontype"
        assert early[key] == whole[key]


def test_ces_run_forward_stays_near_the_series():
    # statsforecast's CES run forward from a fit on three years of this series reached 1,500
    # for a series between 40 and 80: such a forecast is refitted at that origin instead.
    values = seasonal_values(60).astype(float)
    fitted = sf.auto_ces(True).fit(values[:36], START)
    for origin in range(36, 56, 2):
        point = fitted.forward(values[:origin], 4)
        assert np.all(point > 0) and np.all(point < 2 * values.max())


class _Runaway:
    name = "runaway"

    def fit(self, values, start):
        return models._Simple(lambda v, h: np.full(h, 1e9), values, 1.0, models._ones)


def test_a_forecast_that_runs_away_fails_the_backtest():
    values = seasonal_values(60).astype(float)
    result = run_backtest("ets", _Runaway(), values, START, [36, 38], 6, True)
    assert not result.ok and "ran far outside the history" in (result.failure or "")


def test_every_candidate_score_and_the_cutoff_are_recorded():
    forecast = engine.forecast_series(series(seasonal_values(60)), ForecastOptions(horizon=6))
    assert [c.model for c in forecast.candidates] == list(DEFAULT_MODELS)
    tested = {c.model for c in forecast.candidates if c.mase is not None}
    assert {"seasonal_naive", "ets", "theta", "ces", "croston", "combination_median"} <= tested
    assert forecast.cutoff == date(2024, 3, 1)
    assert forecast.points[0].month == date(2024, 4, 1)
    assert any(n.startswith("chosen by backtest") for n in forecast.notes)


# Intervals and paths


def test_80_percent_intervals_cover_about_80_percent_of_fresh_draws_of_known_noise():
    rng = np.random.default_rng(7)
    coverage80, coverage95 = [], []
    for seed in range(4):
        t = np.arange(120)
        truth = 200 + 20 * np.sin(2 * np.pi * t / 12)
        noise = np.random.default_rng(100 + seed).normal(0, 6.0, 120)
        forecast = engine.forecast_series(series(truth[:96] + noise[:96], f"g{seed}"), FAST)
        for step, point in enumerate(forecast.points):
            draws = truth[96 + step] + rng.normal(0, 6.0, 2000)
            coverage80.append(np.mean((draws >= point.lo80) & (draws <= point.hi80)))
            coverage95.append(np.mean((draws >= point.lo95) & (draws <= point.hi95)))
    assert 0.70 <= np.mean(coverage80) <= 0.90
    assert 0.88 <= np.mean(coverage95) <= 0.995


def test_ranges_in_a_recent_scale_narrow_after_a_noisy_spell_ends():
    t = np.arange(96)
    noise = np.random.default_rng(4).normal(0, 1.0, 96) * np.where(t < 60, 8.0, 2.0)
    values = series(200 + 20 * np.sin(2 * np.pi * t / 12) + noise, "calmed", is_count=False)
    whole = engine.forecast_series(values, FAST)
    recent = engine.forecast_series(
        values, msgspec.structs.replace(FAST, range_scale="recent", range_recent=24)
    )
    assert [p.mean for p in recent.points] == [p.mean for p in whole.points]
    width = {
        name: np.mean([p.hi80 - p.lo80 for p in run.points])
        for name, run in (("whole", whole), ("recent", recent))
    }
    # The last 24 months are a quarter as noisy as the first 60, which the whole history's
    # scale still counts; the recent scale sees only the calm.
    assert width["recent"] < 0.75 * width["whole"], width


@pytest.mark.parametrize("scale", ["median", "recent"])
def test_every_range_scale_gives_the_same_point_forecasts_and_ordered_ranges(scale):
    values = series(seasonal_values(84, seed=3), "s")
    options = msgspec.structs.replace(FAST, range_scale=scale)
    forecast = engine.forecast_series(values, options)
    assert [p.mean for p in forecast.points] == [
        p.mean for p in engine.forecast_series(values, FAST).points
    ]
    for p in forecast.points:
        assert p.lo95 <= p.lo80 <= p.mean <= p.hi80 <= p.hi95


def test_a_recent_range_scale_needs_at_least_a_month():
    with pytest.raises(ValueError, match="range_recent"):
        engine.forecast_series(
            series(seasonal_values(60)), msgspec.structs.replace(FAST, range_recent=0)
        )


def test_80_and_95_percent_ranges_are_calibrated_separately_and_grow_as_the_model_says():
    rng = np.random.default_rng(3)
    # 200 origins; errors grow with the months ahead as the model's own sd does (1, 2, 4) and
    # have heavy tails (Student t, 3 df).
    errors = rng.standard_t(3, (200, 3)) * np.array([1.0, 2.0, 4.0])
    growing = models.from_sd(np.zeros(3), np.array([1.0, 2.0, 4.0]))
    calibration = calibrate(backtest("ets", errors), growing, scale=1.0)
    pooled = np.abs(errors / np.array([1.0, 2.0, 4.0]))
    months = 202  # origins 36 to 235, three months ahead each: months 36 to 237
    for step, growth in enumerate([1.0, 2.0, 4.0]):
        expected80 = growth * np.quantile(pooled, 0.8 * (months + 1) / months)
        expected95 = growth * np.quantile(pooled, 0.95 * (months + 1) / months)
        assert calibration.half80[step] == pytest.approx(expected80)
        assert calibration.half95[step] == pytest.approx(expected95)
    # Heavy tails: the 95% range is wider than 1.53 times the 80% one, as a normal would give.
    assert np.all(calibration.half95 / calibration.half80 > 1.7)
    assert "set from 600 backtest errors about 202 different months" in (calibration.note() or "")


def test_with_too_few_months_for_a_95_percent_bound_the_range_still_widens_beyond_80():
    errors = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0], [8.0], [9.0]])
    flat = Forecast(np.zeros(1), 1.0, np.ones(1))
    calibration = calibrate(backtest("ets", errors), flat, scale=1.0)
    # Nine months: the 0.8 * 10 / 9 = 0.889 quantile of 1..9, interpolated, is 8 + 1/9.
    assert calibration.half80[0] == pytest.approx(8 + 1 / 9)
    assert calibration.half95[0] == pytest.approx((8 + 1 / 9) * 1.95996 / 1.28155, rel=1e-4)


def test_ranges_of_counts_are_whole_numbers_holding_the_mean():
    rng = np.random.default_rng(8)
    values = rng.poisson(2.5, 72).astype(float)
    forecast = engine.forecast_series(series(values), FAST)
    for point in forecast.points:
        bounds = [point.lo95, point.lo80, point.hi80, point.hi95]
        assert all(b == int(b) and b >= 0 for b in bounds)
        assert point.lo95 <= point.lo80 <= point.mean <= point.hi80 <= point.hi95
    paths = np.asarray(forecast.paths)
    assert np.all(paths == np.round(paths)) and paths.min() >= 0


def test_counts_are_never_forecast_below_zero():
    rng = np.random.default_rng(4)
    values = np.maximum(0, np.round(8 - 0.15 * np.arange(48) + rng.normal(0, 1.5, 48)))
    forecast = engine.forecast_series(
        series(values), ForecastOptions(horizon=24, models=FAST.models)
    )
    assert min(p.lo95 for p in forecast.points) >= 0
    assert min(p.mean for p in forecast.points) >= 0
    assert np.min(forecast.paths) >= 0
    assert np.shape(forecast.paths) == (500, 24)


def test_series_that_are_not_counts_may_go_below_zero():
    values = -5 - 0.5 * np.arange(40)
    values[::3] += 0.3
    forecast = engine.forecast_series(series(values, is_count=False), FAST)
    assert forecast.points[-1].mean < -20


# Degenerate series: each gets a forecast and says why it looks the way it does


def _with_gaps():
    values: list[float | None] = list(seasonal_values(40))
    values[17] = values[18] = None
    return values


def _with_spike():
    values = seasonal_values(60)
    values[30] = 400
    return values


DEGENERATE = {
    "14 months": (seasonal_values(14), "only 14 months of history: seasonal pattern not estimated"),
    "all zeros": ([0.0] * 30, "every figure is zero"),
    "constant": ([7.0] * 30, "every figure is 7"),
    "missing months": (_with_gaps(), "2 months missing (2020-09, 2020-10)"),
    "one-off spike": (_with_spike(), "treated as a one-off and damped for fitting (2021-10: 400"),
    "starts mid-way": ([None] * 10 + list(seasonal_values(40)), "series starts in 2020-02"),
    "zeros before it starts": ([0.0] * 10 + list(seasonal_values(40)), "were all zero"),
    "3 months": ([4.0, 6.0, 5.0], "only 3 months of history"),
}


@pytest.mark.parametrize("case", list(DEGENERATE))
def test_degenerate_series_get_a_forecast_and_a_note(case):
    values, note = DEGENERATE[case]
    forecast = engine.forecast_series(series(values), FAST)
    assert len(forecast.points) == 12
    assert all(np.isfinite([p.mean, p.lo80, p.hi95]).all() for p in forecast.points)
    assert all(p.lo95 <= p.lo80 <= p.mean <= p.hi80 <= p.hi95 for p in forecast.points)
    assert any(note in n for n in forecast.notes), forecast.notes


def test_a_spike_does_not_leak_into_the_forecast():
    forecast = engine.forecast_series(series(_with_spike()), FAST)
    october = next(p.mean for p in forecast.points if p.month.month == 10)
    assert october < 120


def test_constant_and_zero_series_hold_their_value_with_no_spread():
    forecast = engine.forecast_series(series([0.0] * 30), FAST)
    assert forecast.model == "constant"
    assert {(p.mean, p.lo95, p.hi95) for p in forecast.points} == {(0.0, 0.0, 0.0)}


def test_a_mostly_zero_count_is_forecast_as_a_rate_with_whole_number_paths():
    values = np.random.default_rng(9).poisson(0.3, 60).astype(float)
    forecast = engine.forecast_series(series(values), FAST)
    assert forecast.model == "rate"
    assert any(n.startswith("mostly zeros") for n in forecast.notes)
    paths = np.asarray(forecast.paths)
    assert np.all(paths == np.round(paths)) and paths.min() >= 0
    rate = np.mean(values[-24:])
    chance = float(np.mean(paths[:, 0] >= 1.0))  # the share of paths with an event in month 1
    assert chance == pytest.approx(1 - np.exp(-rate), abs=0.08)


def test_a_series_without_figures_gets_no_forecast_but_a_note():
    forecast = engine.forecast_series(series([None, None]), FAST)
    assert forecast.points == [] and forecast.paths == []
    assert forecast.notes == ["no figures in the series: nothing to forecast"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(st.none(), st.integers(0, 30).map(float), st.just(0.0)),
        min_size=0,
        max_size=40,
    )
)
def test_no_series_crashes_the_engine(values):
    forecast = engine.forecast_series(series(values), ForecastOptions(horizon=6, paths=20))
    if any(v is not None for v in values):
        assert len(forecast.points) == 6
        assert min(p.lo95 for p in forecast.points) >= 0
    assert forecast.notes is not None


# Failures fall back, with a note


class _Broken:
    name = "ets"

    def fit(self, values, start):
        raise RuntimeError("optimizer exploded")


class _BrokenOnFullHistory:
    name = "sarima"

    def __init__(self, length: int) -> None:
        self.length = length

    def fit(self, values, start):
        if len(values) == self.length:
            raise RuntimeError("singular matrix")
        return models.SeasonalNaive().fit(values, start)


def test_a_model_that_fails_in_the_backtest_is_recorded_and_skipped(monkeypatch):
    monkeypatch.setitem(roster.MODELS, "ets", lambda seasonal: _Broken())
    forecast = engine.forecast_series(series(seasonal_values(60)), FAST)
    ets = next(c for c in forecast.candidates if c.model == "ets")
    assert ets.mase is None and "optimizer exploded" in (ets.note or "")
    assert forecast.model != "ets"
    assert any("failed in the backtest" in n for n in forecast.notes)


def test_a_winner_that_fails_on_the_full_history_gives_way_to_the_next(monkeypatch):
    monkeypatch.setitem(roster.MODELS, "sarima", lambda seasonal: _BrokenOnFullHistory(60))
    options = ForecastOptions(horizon=12, models=("sarima", "drift"))  # drift: the worse one
    forecast = engine.forecast_series(series(seasonal_values(60)), options)
    assert forecast.model == "drift"
    assert any("failed on the full history" in n for n in forecast.notes)


def test_a_series_whose_forecast_raises_falls_back_to_seasonal_naive(monkeypatch):
    def explode(series, options):
        raise ValueError("something unexpected")

    monkeypatch.setattr(engine, "_forecast", explode)
    forecast = engine.forecast_series(series(seasonal_values(36)), FAST)
    assert forecast.model == "seasonal_naive"
    assert len(forecast.points) == 12
    assert any("forecasting failed (ValueError: something unexpected)" in n for n in forecast.notes)


def test_an_unknown_model_is_noted_not_fatal():
    options = ForecastOptions(horizon=6, models=("seasonal_naive", "ets", "crystal_ball"))
    forecast = engine.forecast_series(series(seasonal_values(40)), options)
    unknown = next(c for c in forecast.candidates if c.model == "crystal_ball")
    assert unknown.note == "not fitted: no such model"


# Executors


def _batch() -> list[MonthlySeries]:
    return [series(seasonal_values(40, seed=i), f"E{i:02d}/enquiries") for i in range(5)] + [
        series([3.0, 4.0], "short"),
        series([0.0] * 20, "zeros"),
    ]


def test_process_pool_gives_the_serial_results_in_input_order():
    batch = _batch()
    options = ForecastOptions(horizon=6, models=FAST.models, paths=50)
    progress: list[tuple[int, int]] = []
    serial = engine.forecast_many(batch, options, executor="serial")
    pooled = engine.forecast_many(
        batch, options, executor="process", workers=2, progress=lambda d, t: progress.append((d, t))
    )
    assert pooled == serial
    assert [f.series_id for f in pooled] == [s.series_id for s in batch]
    assert progress[-1] == (len(batch), len(batch))
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


def test_dask_cluster_gives_the_serial_results():
    distributed = pytest.importorskip("distributed")
    batch = _batch()
    options = ForecastOptions(horizon=6, models=FAST.models, paths=50)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        result = engine.forecast_many(
            batch, options, executor="dask", dask_address=cluster.scheduler_address
        )
    assert result == engine.forecast_many(batch, options, executor="serial")


def test_an_unknown_executor_is_refused():
    with pytest.raises(ValueError, match="executor must be one of"):
        engine.forecast_many(_batch(), executor="threads")


def test_prophet_fits_quietly(capfd):
    from forecast.prophet_fit import ProphetModel

    fitted = ProphetModel(seasonal=True).fit(seasonal_values(36), START)
    assert len(fitted.forecast(6).mean) == 6
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# CSV


def test_csv_round_trip_reads_series_and_writes_one_row_per_month():
    text = "series_id,month,value\nb,2024-02,5\na,2023-01,1\na,2023-03,3\nb,2024-01,4\n"
    read = read_series_csv(text)
    assert [s.series_id for s in read] == ["b", "a"]
    assert read[1].values == [1.0, None, 3.0] and read[1].start == date(2023, 1, 1)
    assert read[0].values == [4.0, 5.0] and read[0].start == date(2024, 1, 1)

    forecasts = engine.forecast_many(read, ForecastOptions(horizon=3), executor="serial")
    rows = list(csv.DictReader(io.StringIO(write_forecast_csv(forecasts))))
    assert list(rows[0]) == ["series_id", "month", "model", "mean", "lo80", "hi80", "lo95", "hi95"]
    assert [(r["series_id"], r["month"]) for r in rows[:3]] == [
        ("b", "2024-03"),
        ("b", "2024-04"),
        ("b", "2024-05"),
    ]
    assert len(rows) == 6
    assert all(float(r["lo95"]) <= float(r["mean"]) <= float(r["hi95"]) for r in rows)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("series_id,month\na,2024-01\n", "line 1: missing column value"),
        ("series_id,month,value\na,2024-01,1\na,2024-13,2\n", "line 3, column month"),
        ("series_id,month,value\na,2024-01,1\na,Jan 2024,2\n", "line 3, column month"),
        ("series_id,month,value\na,2024-01,lots\n", "line 2, column value: 'lots'"),
        ("series_id,month,value\na,2024-01,1\na,2024-01,2\n", "already given on line 2"),
        ("series_id,month,value\n,2024-01,1\n", "line 2, column series_id: empty"),
        ("series_id,month,value\na,2024-01\n", "line 2: expected 3 columns"),
        ("", "line 1: the file is empty"),
    ],
)
def test_csv_errors_name_the_line_and_column(text, message):
    with pytest.raises(ValueError, match=message):
        read_series_csv(text)


def test_csv_counts_are_told_from_other_figures():
    text = "series_id,month,value\nn,2024-01,3\nn,2024-02,\nr,2024-01,0.55\nr,2024-02,-1\n"
    counts, rates = read_series_csv(text)
    assert counts.is_count and counts.values == [3.0, None]
    assert not rates.is_count


def test_an_unreachable_cluster_still_gives_every_forecast(monkeypatch):
    def unreachable(task, chunks, options, workers, address):
        raise OSError("no scheduler at tcp://nowhere:8786")
        yield  # pragma: no cover

    monkeypatch.setitem(executors.RUNNERS, "dask", unreachable)
    batch = _batch()
    options = ForecastOptions(horizon=6, models=FAST.models, paths=50)
    result = engine.forecast_many(
        batch, options, executor="dask", dask_address="tcp://nowhere:8786"
    )
    assert result == engine.forecast_many(batch, options, executor="serial")
